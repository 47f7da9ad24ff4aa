"""A consumer group subscription over the Subscribe stream (asyncio API)."""

from __future__ import annotations

import asyncio
import functools
from typing import AsyncIterator

import grpc
import grpc.aio

from sluice_client._coalesce import take_queued
from sluice_client._gen.sluice.v1 import broker_pb2, broker_pb2_grpc
from sluice_client._reconnector import Reconnector
from sluice_client._subscription_core import (
    END, SubscriptionBase, client_closed, log, stream_error, topic_of, void_on_new_stream,
)
from sluice_client.backoff import Reconnect
from sluice_client.errors import SluiceError
from sluice_client.received import ReceivedMessage

__all__ = ["AsyncSubscription"]


class AsyncSubscription(SubscriptionBase):
    """An open Subscribe stream; ``async for`` it. See ``Subscription`` for
    the contract, reconnection included, which is the same with ``await`` on
    ``receive`` and ``close``; a task on the event loop reads the stream."""

    def __init__(
        self,
        stub: broker_pb2_grpc.BrokerServiceStub,
        open_request: broker_pb2.SubscribeRequest,
        reconnect: Reconnect = Reconnect(),
    ) -> None:
        self._stub = stub
        self._open_request = open_request
        self._reconnector = Reconnector(reconnect, topic_of(open_request), "subscribe", log)
        self._inbox: asyncio.Queue[object] = asyncio.Queue()
        self._closing = False
        self._stopped = asyncio.Event()  # wakes a backoff for close()
        self._error: SluiceError | None = None
        self._subscribed = asyncio.Event()
        self._info: broker_pb2.SubscribeResponse.Subscribed | None = None
        self._generation = 0
        self._requests = self._fresh_requests()
        self._call = stub.Subscribe(self._request_iterator(self._requests))
        self._reader = asyncio.get_running_loop().create_task(self._run())

    async def _wait_subscribed(self, timeout: float) -> None:
        try:
            await asyncio.wait_for(self._subscribed.wait(), timeout)
        except asyncio.TimeoutError:
            self._closing = True
            self._call.cancel()
            raise SluiceError(grpc.StatusCode.DEADLINE_EXCEEDED, f"no answer to open within {timeout} s") from None
        if self._error is not None:
            raise self._error
        if self._info is None:
            raise SluiceError(grpc.StatusCode.UNKNOWN, "the stream ended before it was subscribed")

    async def receive(self, timeout: float | None = None) -> ReceivedMessage | None:
        """The next message, ``None`` at the end; ``TimeoutError`` after ``timeout`` s."""
        try:
            item = await asyncio.wait_for(self._inbox.get(), timeout)
        except asyncio.TimeoutError:
            raise TimeoutError(f"no message within {timeout} s") from None
        if item is END:
            self._inbox.put_nowait(END)
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
        stream (cancelling it after ``timeout`` s); during a reconnection
        backoff, returns at once. Closing twice does nothing."""
        if self._closing:
            return
        self._closing = True
        self._requests.put_nowait(None)
        self._stopped.set()
        done, _ = await asyncio.wait({self._reader}, timeout=timeout)
        if not done:
            self._call.cancel()
            done, _ = await asyncio.wait({self._reader}, timeout=timeout)
        if not done:
            self._reader.cancel()

    @property
    def closed(self) -> bool:
        return self._closing or self._reader.done()

    async def __aenter__(self) -> "AsyncSubscription":
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    def _fresh_requests(self) -> asyncio.Queue[broker_pb2.SubscribeRequest | None]:
        requests: asyncio.Queue[broker_pb2.SubscribeRequest | None] = asyncio.Queue()
        requests.put_nowait(self._open_request)
        return requests

    def _send(self, generation: int, request: broker_pb2.SubscribeRequest) -> None:
        if self._closing:
            raise SluiceError(grpc.StatusCode.FAILED_PRECONDITION, "the subscription is closed")
        if generation != self._generation and void_on_new_stream(request):
            return
        self._requests.put_nowait(request)

    async def _request_iterator(
        self, requests: asyncio.Queue[broker_pb2.SubscribeRequest | None]
    ) -> AsyncIterator[broker_pb2.SubscribeRequest]:
        request = await requests.get()
        while request is not None:
            # What queued up meanwhile goes out with it, acks merged.
            batch, more = take_queued(request, requests.get_nowait, asyncio.QueueEmpty)
            for merged in batch:
                yield merged
            if not more:
                return
            request = await requests.get()

    async def _run(self) -> None:
        try:
            while (error := await self._read()) is not None:
                delay = self._backoff_after(error)
                if delay is None:
                    return
                try:
                    await asyncio.wait_for(self._stopped.wait(), delay)
                    return
                except asyncio.TimeoutError:
                    pass
                if self._closing:
                    return
                try:
                    self._call = self._stub.Subscribe(self._request_iterator(self._requests))
                except (ValueError, grpc.aio.UsageError) as closed:
                    self._error = client_closed(closed)
                    return
        except asyncio.CancelledError:
            self._call.cancel()
        finally:
            if not self._closing:
                self._closing = True
                self._requests.put_nowait(None)
            self._inbox.put_nowait(END)
            self._subscribed.set()

    async def _read(self) -> SluiceError | None:
        """Reads the current stream to its end. Returns the error to reconnect
        after, having retired the stream's requests and its undelivered
        messages, or ``None`` when the subscription is over."""
        send = functools.partial(self._send, self._generation)
        try:
            async for response in self._call:
                for message in self._take_in(response, send):
                    self._inbox.put_nowait(message)
            return None
        except grpc.RpcError as rpc_error:
            error = stream_error(rpc_error, self._closing)
        if error is None or self._closing:
            self._error = error
            return None
        self._requests.put_nowait(None)
        self._generation += 1
        self._requests = self._fresh_requests()
        while not self._inbox.empty():  # the broker redelivers these
            self._inbox.get_nowait()
        return error
