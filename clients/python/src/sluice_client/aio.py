"""The asyncio client, on ``grpc.aio``: the same calls as ``Client``, awaited.

    async with AsyncClient("127.0.0.1:50051") as client:
        await client.publish("orders", [b"hello"])
        async with await client.subscribe("orders", "billing") as sub:
            async for message in sub:
                message.ack()

Ack verbs on delivered messages are the same plain methods as in the
blocking client: they queue a request and return at once (call them on the
event loop's thread).
"""

from __future__ import annotations

import contextlib
import sys
from typing import TYPE_CHECKING, AsyncIterator, Iterable, Sequence

import grpc
import grpc.aio

from sluice_client import _convert
from sluice_client._channel import Pem, channel_credentials, open_aio_channel
from sluice_client._gen.sluice.v1 import admin_pb2, admin_pb2_grpc, broker_pb2, broker_pb2_grpc
from sluice_client.async_publisher import AsyncPublisher
from sluice_client.async_subscription import AsyncSubscription
from sluice_client.backoff import Reconnect
from sluice_client.errors import SluiceError
from sluice_client.publisher_options import PublisherOptions, publisher_settings
from sluice_client.values import Publishable, PublishResult, Seconds, Start

if TYPE_CHECKING:
    if sys.version_info >= (3, 11):
        from typing import Unpack
    else:
        from typing_extensions import Unpack

__all__ = ["AsyncClient", "AsyncPublisher", "AsyncSubscription"]


@contextlib.contextmanager
def _translated():
    try:
        yield
    except grpc.RpcError as error:
        raise SluiceError.from_rpc_error(error) from error


class AsyncClient:
    """The asyncio twin of ``Client``; the same arguments and errors."""

    def __init__(
        self,
        address: str,
        *,
        credentials: grpc.ChannelCredentials | None = None,
        options: Sequence[tuple[str, object]] = (),
        timeout: float = 30.0,
        token: str | None = None,
        root_certificates: Pem | None = None,
        private_key: Pem | None = None,
        certificate_chain: Pem | None = None,
    ) -> None:
        tls = channel_credentials(credentials, root_certificates, private_key, certificate_chain)
        self._channel = open_aio_channel(address, tls, token, options)
        self._broker = broker_pb2_grpc.BrokerServiceStub(self._channel)
        self._admin = admin_pb2_grpc.AdminServiceStub(self._channel)
        self._timeout = timeout
        self._publishers: set[AsyncPublisher] = set()

    def publisher(self, topic: str, **options: Unpack[PublisherOptions]) -> AsyncPublisher:
        """The asyncio twin of ``Client.publisher``; call it on the event loop."""
        publisher = AsyncPublisher(self._broker, topic, publisher_settings(options), self._publishers.discard)
        self._publishers.add(publisher)
        return publisher

    async def publish(self, topic: str, messages: Publishable | Iterable[Publishable]) -> list[PublishResult]:
        request = broker_pb2.PublishRequest(topic=topic, messages=_convert.publish_messages(messages))
        with _translated():
            response = await self._broker.Publish(request, timeout=self._timeout)
        return _convert.publish_results(response.results)

    async def subscribe(
        self,
        topic: str,
        group: str,
        *,
        max_in_flight: int | None = None,
        start: Start | None = None,
        ack_deadline: Seconds | None = None,
        consumer_name: str = "",
        timeout: float | None = None,
        reconnect: Reconnect | None = None,
    ) -> AsyncSubscription:
        """The asyncio twin of ``Client.subscribe``, ``reconnect`` included."""
        request = _convert.open_request(
            topic, group, max_in_flight=max_in_flight, start=start,
            ack_deadline=ack_deadline, consumer_name=consumer_name,
        )
        subscription = AsyncSubscription(self._broker, request, reconnect or Reconnect())
        await subscription._wait_subscribed(timeout or self._timeout)
        return subscription

    async def create_topic(
        self, name: str, partitions: int = 1, *, max_age: Seconds | None = None, max_bytes: int = 0
    ) -> admin_pb2.Topic:
        request = admin_pb2.CreateTopicRequest(name=name, partitions=partitions)
        if max_age is not None or max_bytes:
            request.retention.max_bytes = max_bytes
            if max_age is not None:
                request.retention.max_age.CopyFrom(_convert.duration(max_age))
        with _translated():
            return (await self._admin.CreateTopic(request, timeout=self._timeout)).topic

    async def get_topic(self, name: str) -> admin_pb2.Topic:
        with _translated():
            return (await self._admin.GetTopic(admin_pb2.GetTopicRequest(name=name), timeout=self._timeout)).topic

    async def list_topics(self, *, page_size: int = 0) -> AsyncIterator[admin_pb2.Topic]:
        token = ""
        while True:
            with _translated():
                page = await self._admin.ListTopics(
                    admin_pb2.ListTopicsRequest(page_size=page_size, page_token=token), timeout=self._timeout
                )
            for topic in page.topics:
                yield topic
            if not (token := page.next_page_token):
                return

    async def delete_topic(self, name: str) -> None:
        with _translated():
            await self._admin.DeleteTopic(admin_pb2.DeleteTopicRequest(name=name), timeout=self._timeout)

    async def create_group(
        self, topic: str, group: str, *, start: Start | None = None, ack_deadline: Seconds | None = None
    ) -> admin_pb2.Group:
        request = admin_pb2.CreateGroupRequest(topic=topic, group=group)
        if (position := _convert.start_position(start)) is not None:
            request.start.CopyFrom(position)
        if (settings := _convert.group_settings(ack_deadline)) is not None:
            request.settings.CopyFrom(settings)
        with _translated():
            return (await self._admin.CreateGroup(request, timeout=self._timeout)).group

    async def get_group(self, topic: str, group: str) -> admin_pb2.Group:
        with _translated():
            return (await self._admin.GetGroup(
                admin_pb2.GetGroupRequest(topic=topic, group=group), timeout=self._timeout)).group

    async def list_groups(self, topic: str) -> list[admin_pb2.Group]:
        with _translated():
            return list((await self._admin.ListGroups(
                admin_pb2.ListGroupsRequest(topic=topic), timeout=self._timeout)).groups)

    async def delete_group(self, topic: str, group: str, *, force: bool = False) -> None:
        with _translated():
            await self._admin.DeleteGroup(
                admin_pb2.DeleteGroupRequest(topic=topic, group=group, force=force), timeout=self._timeout)

    async def close(self) -> None:
        """Closes the publishers (waiting for their confirmations), then the channel."""
        for publisher in list(self._publishers):
            await publisher.close()
        await self._channel.close()

    async def __aenter__(self) -> "AsyncClient":
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()
