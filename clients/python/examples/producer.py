"""Publishes messages to a Sluice topic, creating it if needed.

    python examples/producer.py --address 127.0.0.1:50051 --topic demo -n 10
"""

from __future__ import annotations

import argparse

import grpc

from sluice_client import Client, Outgoing, SluiceError


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--address", default="127.0.0.1:50051")
    parser.add_argument("--topic", default="demo")
    parser.add_argument("--partitions", type=int, default=1, help="if the topic is created")
    parser.add_argument("-n", type=int, default=10, help="how many messages")
    args = parser.parse_args()

    with Client(args.address) as client:
        try:
            client.create_topic(args.topic, partitions=args.partitions)
        except SluiceError as error:
            if error.code != grpc.StatusCode.ALREADY_EXISTS:
                raise
        messages = [
            Outgoing(f"hello {i} from Python", key=f"key-{i % 3}", headers={"producer": "python-example"})
            for i in range(args.n)
        ]
        # A publisher batches messages into stream requests, gives each an id,
        # and resends what is unconfirmed after a reconnection (the broker
        # dedupes the resends).
        with client.publisher(args.topic) as publisher:
            positions = publisher.send_batch(messages).result()
        for message, position in zip(messages, positions):
            print(f"published {message.payload!r} at partition {position.partition} offset {position.offset}")


if __name__ == "__main__":
    main()
