"""Python client for Sluice, a gRPC streaming message broker.

    from sluice_client import Client

    with Client("127.0.0.1:50051") as client:
        client.create_topic("orders", partitions=4)
        client.publish("orders", [b"first", b"second"])
        with client.publisher("orders") as publisher:
            futures = [publisher.send(f"event {i}") for i in range(1000)]
        with client.subscribe("orders", "billing") as sub:
            for message in sub:
                print(message.payload)
                message.ack()

The asyncio variant is ``sluice_client.aio.AsyncClient``. Admin calls return
the generated ``sluice.v1`` messages; ``sluice_client.pb`` exposes those
modules and the raw gRPC stubs.
"""

from sluice_client.backoff import Reconnect
from sluice_client.client import Client
from sluice_client.errors import SendBatchError, SluiceError
from sluice_client.publisher import Publisher
from sluice_client.publisher_options import PublisherOptions
from sluice_client.received import ReceivedMessage
from sluice_client.subscription import Subscription
from sluice_client.values import Outgoing, Position, PublishResult

__all__ = [
    "Client", "Outgoing", "Position", "PublishResult", "Publisher", "PublisherOptions", "ReceivedMessage",
    "Reconnect", "SendBatchError", "SluiceError", "Subscription",
]
__version__ = "0.1.0"
