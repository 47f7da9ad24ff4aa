"""The asyncio publisher: batched, pipelined publishing over PublishStream."""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any, AsyncIterator, Callable, Coroutine, Iterable, TypeVar

import grpc
import grpc.aio

from sluice_client import _convert
from sluice_client._gen.sluice.v1 import broker_pb2, broker_pb2_grpc
from sluice_client._pending import settle_all
from sluice_client._publish_core import PublishCore, closed_error, timed_out_error
from sluice_client._reconnector import Reconnector
from sluice_client.errors import SendBatchError, SluiceError
from sluice_client.publisher_options import PublisherSettings
from sluice_client.values import Publishable, PublishResult

__all__ = ["AsyncPublisher"]

T = TypeVar("T")


async def _outcome(future: asyncio.Future[T]) -> T:
    return await future


class _Pulse:
    """Wakes every task waiting for something to change (one event loop)."""

    def __init__(self) -> None:
        self._event = asyncio.Event()

    def fire(self) -> None:
        self._event.set()
        self._event = asyncio.Event()

    async def wait(self, timeout: float | None = None) -> None:
        """Returns on the next ``fire`` or after ``timeout`` seconds."""
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(self._event.wait(), timeout)


class AsyncPublisher:
    """The asyncio twin of ``Publisher``: the same batching, pipelining,
    message ids, bound, reconnection and resends, on the event loop.
    Made by ``AsyncClient.publisher(topic, **options)``; call it on that
    loop's thread. ``async with`` it, or ``await close()``.

    ``send`` and ``send_batch`` take the message when they are called (so
    calls are published in call order, and ``close()`` waits for them, even
    before their coroutines run); awaiting gives the outcome.
    """

    def __init__(
        self,
        stub: broker_pb2_grpc.BrokerServiceStub,
        topic: str,
        settings: PublisherSettings,
        on_closed: Callable[["AsyncPublisher"], None] = lambda p: None,
    ) -> None:
        self.topic = topic
        self._stub = stub
        self._on_closed = on_closed
        self._loop = asyncio.get_running_loop()
        self._core = PublishCore(topic, settings, self._loop.time)
        self._reconnector = Reconnector(settings.reconnect, topic)
        self._changed = _Pulse()
        self._state = "open"  # then "closing", "aborted" (close timed out), "closed"
        self._stream = 0  # the number of the current stream; 0 between streams
        self._call: grpc.aio.StreamStreamCall[broker_pb2.PublishStreamRequest, broker_pb2.PublishStreamResponse] | None = None
        self._task = self._loop.create_task(self._run(), name=f"sluice-publisher-{topic}")

    def send(self, message: Publishable) -> Coroutine[Any, Any, PublishResult]:
        """Publishes one message (``bytes``, ``str`` or ``Outgoing``); await
        it for where the broker stored it. It waits while
        ``max_unconfirmed_bytes`` are unconfirmed ahead of it.

        Raises at once ``SluiceError(FAILED_PRECONDITION)`` once ``close()``
        was called, ``TypeError`` for something that is not a message,
        ``ValueError`` for a partition outside uint32; awaiting raises
        ``SluiceError`` as ``Publisher.send``'s future does.
        """
        wire = _convert.publish_message(message, self._core.next_id())
        if self._state != "open":
            raise closed_error(self.topic)
        future: asyncio.Future[PublishResult] = self._loop.create_future()
        self._core.send(wire, future)
        self._wake()
        return _outcome(future)

    def send_batch(self, messages: Iterable[Publishable]) -> Coroutine[Any, Any, list[PublishResult]]:
        """Publishes many messages; await it for one result per message, in
        order (``[]`` for none). Raises at once ``TypeError`` or
        ``ValueError`` naming the first malformed message and
        ``SendBatchError(FAILED_PRECONDITION)`` once ``close()`` was called;
        awaiting raises ``SendBatchError`` as ``Publisher.send_batch``'s
        future does (``index``, ``results``)."""
        wire = _convert.batch_messages(messages, self._core.next_id)
        future: asyncio.Future[list[PublishResult]] = self._loop.create_future()
        if not wire:
            future.set_result([])
        elif self._state != "open":
            raise SendBatchError(grpc.StatusCode.FAILED_PRECONDITION, closed_error(self.topic).details,
                                 0, [None] * len(wire))
        else:
            self._core.send_batch(wire, future)
            self._wake()
        return _outcome(future)

    async def flush(self, timeout: float | None = None) -> None:
        """Sends what is gathered at once and waits until every ``send`` and
        ``send_batch`` made before has its outcome. Raises ``TimeoutError``
        after ``timeout`` seconds."""
        target = self._core.flush()
        self._wake()
        deadline = None if timeout is None else self._loop.time() + timeout
        while self._core.settled_through < target:
            remaining = None if deadline is None else deadline - self._loop.time()
            if remaining is not None and remaining <= 0:
                raise TimeoutError(f"sends to {self.topic!r} not settled within {timeout} s")
            await self._changed.wait(remaining)

    async def close(self, timeout: float | None = None) -> None:
        """Takes no more messages, waits for every confirmation (through
        reconnections), then ends the stream. Idempotent. After ``timeout``
        seconds it cancels the stream, fails what is still unconfirmed with
        ``DEADLINE_EXCEEDED`` and raises ``TimeoutError``."""
        if self._state == "open":
            self._state = "closing"
            self._core.close()
            self._wake()
        done, _ = await asyncio.wait({self._task}, timeout=timeout)
        if not done:
            self._abort(timed_out_error(self.topic, timeout))
            await asyncio.wait({self._task})
            raise TimeoutError(f"the publisher of {self.topic!r} was not confirmed within {timeout} s")

    @property
    def closed(self) -> bool:
        """Whether ``close()`` was called."""
        return self._state != "open"

    async def __aenter__(self) -> "AsyncPublisher":
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    # Internals.

    def _wake(self) -> None:
        if self._core.wake:
            self._core.wake = False
            self._changed.fire()

    def _abort(self, error: SluiceError) -> None:
        self._state = "aborted"
        settle_all(self._core.fail_all(error))
        if self._call is not None:
            self._call.cancel()
        self._task.cancel()

    async def _run(self) -> None:
        """The dial loop: a stream while there is work, until closed."""
        try:
            while True:
                while not self._core.has_work and self._state == "open":
                    await self._changed.wait()
                if self._state != "open" and not self._core.has_work or self._state == "aborted":
                    break
                self._stream = stream = self._stream + 1
                error = await self._read(stream)
                self._stream, self._call = 0, None
                self._core.requeue()
                self._changed.fire()  # the writer of the old stream ends
                if self._state == "closing" and self._core.idle:
                    break
                delay = self._reconnector.failed(error)
                if delay is None:
                    settle_all(self._core.fail_all(self._reconnector.giving_up(error)))
                    self._changed.fire()
                else:
                    await asyncio.sleep(delay)
        except asyncio.CancelledError:
            if self._state != "aborted":
                raise
        finally:
            self._state = "closed"
            self._changed.fire()
            self._on_closed(self)

    async def _read(self, stream: int) -> SluiceError:
        """Runs one stream to its end; returns why it ended."""
        try:
            call = self._stub.PublishStream(self._requests(stream))
        except (ValueError, grpc.aio.UsageError) as error:  # the channel is closed
            return SluiceError(grpc.StatusCode.FAILED_PRECONDITION, f"the client is closed: {error}")
        self._call = call
        answered = False
        try:
            async for response in call:
                if not answered:
                    answered = True
                    self._reconnector.succeeded()
                settle_all(self._core.answered(response))
                self._core.wake = False
                self._changed.fire()
        except grpc.RpcError as error:
            return SluiceError.from_rpc_error(error)
        return SluiceError(grpc.StatusCode.UNAVAILABLE, "the broker ended the publish stream")

    async def _requests(self, stream: int) -> AsyncIterator[broker_pb2.PublishStreamRequest]:
        """The requests of one stream; it ends (half-closing the stream) once
        closing and all is written."""
        while self._stream == stream and not self._core.done_writing:
            step = self._core.next_request()
            if isinstance(step, broker_pb2.PublishStreamRequest):
                yield step
            else:
                await self._changed.wait(step)
