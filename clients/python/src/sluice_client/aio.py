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

import asyncio
import contextlib
import sys
from typing import TYPE_CHECKING, AsyncIterator, Iterable, Sequence

import grpc
import grpc.aio

from sluice_client import _convert
from sluice_client._coalesce import take_queued
from sluice_client._channel import Pem, channel_credentials, open_aio_channel
from sluice_client._gen.sluice.v1 import admin_pb2, admin_pb2_grpc, broker_pb2, broker_pb2_grpc, message_pb2
from sluice_client.async_publisher import AsyncPublisher
from sluice_client.errors import SluiceError
from sluice_client.publisher_options import PublisherOptions, publisher_settings
from sluice_client.received import ReceivedMessage
from sluice_client.values import Publishable, PublishResult, Seconds, Start

if TYPE_CHECKING:
    if sys.version_info >= (3, 11):
        from typing import Unpack
    else:
        from typing_extensions import Unpack

__all__ = ["AsyncClient", "AsyncPublisher", "AsyncSubscription"]

_END = object()


@contextlib.contextmanager
def _translated():
    try:
        yield
    except grpc.RpcError as error:
        raise SluiceError.from_rpc_error(error) from error


class AsyncSubscription:
    """An open Subscribe stream; ``async for`` it. See ``Subscription`` for
    the contract, which is the same with ``await`` on ``receive`` and ``close``."""

    def __init__(self, stub: broker_pb2_grpc.BrokerServiceStub, open_request: broker_pb2.SubscribeRequest) -> None:
        self._requests: asyncio.Queue[broker_pb2.SubscribeRequest | None] = asyncio.Queue()
        self._inbox: asyncio.Queue[object] = asyncio.Queue()
        self._closing = False
        self._error: SluiceError | None = None
        self._subscribed = asyncio.Event()
        self._info: broker_pb2.SubscribeResponse.Subscribed | None = None
        self._requests.put_nowait(open_request)
        self._call = stub.Subscribe(self._request_iterator())
        self._reader = asyncio.get_running_loop().create_task(self._read())

    async def _wait_subscribed(self, timeout: float) -> None:
        try:
            await asyncio.wait_for(self._subscribed.wait(), timeout)
        except asyncio.TimeoutError:
            self._call.cancel()
            raise SluiceError(grpc.StatusCode.DEADLINE_EXCEEDED, f"no answer to open within {timeout} s") from None
        if self._error is not None:
            raise self._error
        if self._info is None:
            raise SluiceError(grpc.StatusCode.UNKNOWN, "the stream ended before it was subscribed")

    @property
    def consumer_id(self) -> str:
        assert self._info is not None
        return self._info.consumer_id

    @property
    def partitions(self) -> int:
        assert self._info is not None
        return self._info.partitions

    @property
    def settings(self) -> message_pb2.GroupSettings:
        assert self._info is not None
        return self._info.settings

    async def receive(self, timeout: float | None = None) -> ReceivedMessage | None:
        """The next message, ``None`` at the end; ``TimeoutError`` after ``timeout`` s."""
        try:
            item = await asyncio.wait_for(self._inbox.get(), timeout)
        except asyncio.TimeoutError:
            raise TimeoutError(f"no message within {timeout} s") from None
        if item is _END:
            self._inbox.put_nowait(_END)
            if self._error is not None:
                raise self._error
            return None
        assert isinstance(item, ReceivedMessage)
        return item

    async def __aiter__(self) -> AsyncIterator[ReceivedMessage]:
        while (message := await self.receive()) is not None:
            yield message

    async def close(self, timeout: float = 10.0) -> None:
        """Sends what is queued, half-closes, waits for the broker to end the
        stream (cancelling it after ``timeout`` s). Closing twice does nothing."""
        if self._closing:
            return
        self._closing = True
        self._requests.put_nowait(None)
        done, _ = await asyncio.wait({self._reader}, timeout=timeout)
        if not done:
            self._call.cancel()
            await asyncio.wait({self._reader}, timeout=timeout)

    @property
    def closed(self) -> bool:
        return self._closing or self._reader.done()

    async def __aenter__(self) -> "AsyncSubscription":
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    def _send(self, request: broker_pb2.SubscribeRequest) -> None:
        if self._closing:
            raise SluiceError(grpc.StatusCode.FAILED_PRECONDITION, "the subscription is closed")
        self._requests.put_nowait(request)

    async def _request_iterator(self) -> AsyncIterator[broker_pb2.SubscribeRequest]:
        request = await self._requests.get()
        while request is not None:
            # What queued up meanwhile goes out with it, acks merged.
            batch, more = take_queued(request, self._requests.get_nowait, asyncio.QueueEmpty)
            for merged in batch:
                yield merged
            if not more:
                return
            request = await self._requests.get()

    async def _read(self) -> None:
        try:
            async for response in self._call:
                kind = response.WhichOneof("response")
                if kind == "subscribed":
                    self._info = response.subscribed
                    self._subscribed.set()
                elif kind == "deliveries":
                    batch = response.deliveries
                    deadline = _convert.to_datetime(batch.deadline) if batch.HasField("deadline") else None
                    for delivery in batch.deliveries:
                        self._inbox.put_nowait(ReceivedMessage(delivery, deadline, self._send))
        except grpc.RpcError as error:
            if not (self._closing and error.code() == grpc.StatusCode.CANCELLED):
                self._error = SluiceError.from_rpc_error(error)
        except asyncio.CancelledError:
            pass
        finally:
            if not self._closing:
                self._closing = True
                self._requests.put_nowait(None)
            self._inbox.put_nowait(_END)
            self._subscribed.set()


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
    ) -> AsyncSubscription:
        request = _convert.open_request(
            topic, group, max_in_flight=max_in_flight, start=start,
            ack_deadline=ack_deadline, consumer_name=consumer_name,
        )
        subscription = AsyncSubscription(self._broker, request)
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
