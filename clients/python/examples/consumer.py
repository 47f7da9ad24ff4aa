"""Reads a Sluice topic through a consumer group, printing and acking each
message, until -n messages or Ctrl-C.

    python examples/consumer.py --address 127.0.0.1:50051 --topic demo --group printer
"""

from __future__ import annotations

import argparse

from sluice_client import Client


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--address", default="127.0.0.1:50051")
    parser.add_argument("--topic", default="demo")
    parser.add_argument("--group", default="printer")
    parser.add_argument("-n", type=int, default=0, help="stop after this many (0: until Ctrl-C)")
    args = parser.parse_args()

    with Client(args.address) as client, client.subscribe(
        args.topic, args.group, max_in_flight=100, consumer_name="python-example"
    ) as subscription:
        try:
            for count, message in enumerate(subscription, start=1):
                print(f"partition {message.partition} offset {message.offset} "
                      f"attempt {message.attempt}: {message.payload.decode(errors='replace')}")
                message.ack()
                if count == args.n:
                    break
        except KeyboardInterrupt:
            pass


if __name__ == "__main__":
    main()
