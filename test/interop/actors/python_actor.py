"""The Python side of the interop suite: publishes or consumes with
sluice_client and reports each step as one JSON line on stdout.

    python_actor.py publish --address A --topic T --count N --prefix P
    python_actor.py consume --address A --topic T --group G [--count N] [--max-in-flight M]

`consume` acks every message. It stops after --count messages, or (without
--count) when stdin closes; then it closes the subscription (acks flushed,
stream half-closed and ended by the broker) and prints {"event": "closed"}.
"""

from __future__ import annotations

import argparse
import json
import sys
import threading

from sluice_client import Client, Outgoing


def emit(**fields: object) -> None:
    print(json.dumps(fields), flush=True)


def publish(client: Client, args: argparse.Namespace) -> None:
    messages = [
        Outgoing(f"{args.prefix}-{i}", key=f"k{i}", headers={"lang": "python", "i": str(i)}, message_id=f"py-{i}")
        for i in range(args.count)
    ]
    for message, position in zip(messages, client.publish(args.topic, messages)):
        emit(event="published", partition=position.partition, offset=position.offset, payload=message.payload)


def consume(client: Client, args: argparse.Namespace) -> None:
    subscription = client.subscribe(
        args.topic, args.group, max_in_flight=args.max_in_flight, consumer_name="python-actor"
    )
    emit(event="subscribed", consumerId=subscription.consumer_id)
    if args.count is None:
        # Closing stdin is the signal to stop; close() ends the iteration below.
        threading.Thread(target=lambda: (sys.stdin.read(), subscription.close()), daemon=True).start()
    received = 0
    for message in subscription:
        message.ack()
        received += 1
        emit(event="message", partition=message.partition, offset=message.offset,
             payload=message.payload.decode(), key=message.key, headers=dict(message.headers),
             messageId=message.message_id, attempt=message.attempt)
        if received == args.count:
            break
    subscription.close()
    emit(event="closed", received=received)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("command", choices=["publish", "consume"])
    parser.add_argument("--address", required=True)
    parser.add_argument("--topic", required=True)
    parser.add_argument("--group")
    parser.add_argument("--count", type=int)
    parser.add_argument("--prefix", default="py")
    parser.add_argument("--max-in-flight", type=int)
    args = parser.parse_args()
    with Client(args.address, timeout=30) as client:
        (publish if args.command == "publish" else consume)(client, args)


if __name__ == "__main__":
    main()
