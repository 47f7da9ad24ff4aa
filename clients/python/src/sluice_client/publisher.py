"""The blocking publisher: batched, pipelined publishing over PublishStream."""

from __future__ import annotations

import threading
from concurrent.futures import Future
from typing import Callable, Iterable, Iterator

import grpc

from sluice_client import _convert
from sluice_client._gen.sluice.v1 import broker_pb2, broker_pb2_grpc
from sluice_client._pending import settle_all
from sluice_client._publish_core import PublishCore, closed_error, timed_out_error
from sluice_client._reconnector import Reconnector
from sluice_client.errors import SendBatchError, SluiceError
from sluice_client.publisher_options import PublisherSettings
from sluice_client.values import Publishable, PublishResult

__all__ = ["Publisher"]


class Publisher:
    """Publishes to one topic over one ``PublishStream``, with automatic
    batching and pipelining. Made by ``Client.publisher(topic, **options)``.

    ``send`` and ``send_batch`` may be called from any thread. Messages are
    sent in call order, gathered into requests by count, bytes and a short
    linger, and several requests are in flight at once; their futures settle
    in call order. Every message without a ``message_id`` gets a unique one
    (unless ``auto_message_id=False``). When the stream breaks with a
    retryable status (``UNAVAILABLE``, ``INTERNAL``, ``UNKNOWN``,
    ``CANCELLED``, ``DEADLINE_EXCEEDED``) the publisher reconnects with
    jittered exponential backoff and resends every unconfirmed message with
    the same id: within the topic's dedupe window the broker stores it once
    and answers the resend with the first position and ``duplicate=True``.

    A background thread opens the stream when there is something to send and
    reads its answers; futures' callbacks run on it (they must not wait for
    the publisher). Close it, or use it as a context manager: ``close()``
    waits for every confirmation and ends the thread.
    """

    def __init__(
        self,
        stub: broker_pb2_grpc.BrokerServiceStub,
        topic: str,
        settings: PublisherSettings,
        on_closed: Callable[["Publisher"], None] = lambda p: None,
    ) -> None:
        self.topic = topic
        self._stub = stub
        self._on_closed = on_closed
        self._core = PublishCore(topic, settings)
        self._reconnector = Reconnector(settings.reconnect, topic)
        self._lock = threading.Lock()
        self._work = threading.Condition(self._lock)  # the writer and the dial loop wait for work
        self._room = threading.Condition(self._lock)  # senders wait for room in the bound
        self._settled = threading.Condition(self._lock)  # flush and close wait for outcomes
        self._state = "open"  # then "closing", "aborted" (close timed out), "closed"
        self._stream = 0  # the number of the current stream; 0 between streams
        self._call: grpc.Call | None = None
        self._thread = threading.Thread(target=self._run, name=f"sluice-publisher-{topic}", daemon=True)
        self._thread.start()

    def send(self, message: Publishable) -> Future[PublishResult]:
        """Publishes one message (``bytes``, ``str`` or ``Outgoing``); the
        future gives where the broker stored it.

        Blocks while ``max_unconfirmed_bytes`` are unconfirmed (backpressure),
        then returns. Raises ``SluiceError(FAILED_PRECONDITION)`` once
        ``close()`` was called, ``TypeError`` for something that is not a
        message, ``ValueError`` for a partition outside uint32. The future
        fails with ``SluiceError``: the broker's code when it refuses the
        request (``NOT_FOUND`` for a missing topic, ``INVALID_ARGUMENT`` for
        a partition out of range, ...), the stream's error when it fails for
        good (a status retrying cannot fix, or ``reconnect.max_attempts``
        spent), ``DEADLINE_EXCEEDED`` when ``close(timeout)`` gave up on it.
        """
        wire = _convert.publish_message(message, self._core.next_id())
        future: Future[PublishResult] = Future()
        future.set_running_or_notify_cancel()  # a send cannot be taken back
        with self._lock:
            self._check_open()
            call = self._core.send(wire, future)
            self._wake()
            if call.waiting and not self._on_own_thread():
                self._room.wait_for(lambda: not call.waiting)
        return future

    def send_batch(self, messages: Iterable[Publishable]) -> Future[list[PublishResult]]:
        """Publishes many messages with one future: what ``send`` does for
        each, with less work per message. The future gives one result per
        message, in order, once all are stored; ``[]`` for no messages.

        A large batch goes out as several requests of at most
        ``max_batch_messages`` and ``max_batch_bytes``, through the bound in
        parts (blocking until the last part has room). Raises, before
        anything is sent, ``TypeError`` or ``ValueError`` naming the first
        malformed message, and ``SendBatchError(FAILED_PRECONDITION)`` once
        ``close()`` was called. The future fails with ``SendBatchError``:
        ``index`` is the first message not stored and ``results`` has, per
        message, its ``PublishResult`` or ``None`` (see ``send`` for the
        codes); it settles only once every message has its outcome.
        """
        wire = _convert.batch_messages(messages, self._core.next_id)
        future: Future[list[PublishResult]] = Future()
        future.set_running_or_notify_cancel()
        if not wire:
            future.set_result([])
            return future
        with self._lock:
            if self._state != "open":
                raise SendBatchError(grpc.StatusCode.FAILED_PRECONDITION, closed_error(self.topic).details,
                                     0, [None] * len(wire))
            parts = self._core.send_batch(wire, future)
            self._wake()
            if not self._on_own_thread():
                self._room.wait_for(lambda: not parts[-1].waiting)
        return future

    def flush(self, timeout: float | None = None) -> None:
        """Sends what is gathered at once and waits until every ``send`` and
        ``send_batch`` made before has its outcome (look at their futures).
        Raises ``TimeoutError`` after ``timeout`` seconds, ``RuntimeError``
        when called from a future's callback (it would wait forever)."""
        if self._on_own_thread():
            raise RuntimeError("flush() would wait forever in a callback of the publisher's futures")
        with self._lock:
            target = self._core.flush()
            self._wake()
            if not self._settled.wait_for(lambda: self._core.settled_through >= target, timeout):
                raise TimeoutError(f"sends to {self.topic!r} not settled within {timeout} s")

    def close(self, timeout: float | None = None) -> None:
        """Takes no more messages, waits for every confirmation (through
        reconnections), then ends the stream and the thread. Idempotent.

        After ``timeout`` seconds it cancels the stream, fails what is still
        unconfirmed with ``DEADLINE_EXCEEDED`` (those messages may or may not
        be stored) and raises ``TimeoutError``. From a future's callback it
        only starts closing.
        """
        with self._lock:
            if self._state == "open":
                self._state = "closing"
                self._core.close()
                self._wake()
        if self._on_own_thread():
            return
        self._thread.join(timeout)
        if self._thread.is_alive():
            self._abort(timed_out_error(self.topic, timeout))
            self._thread.join()
            raise TimeoutError(f"the publisher of {self.topic!r} was not confirmed within {timeout} s")

    @property
    def closed(self) -> bool:
        """Whether ``close()`` was called."""
        return self._state != "open"

    def __enter__(self) -> "Publisher":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # Internals: the lock guards the core and the fields below it in __init__.

    def _check_open(self) -> None:
        if self._state != "open":
            raise closed_error(self.topic)

    def _on_own_thread(self) -> bool:
        return threading.current_thread() is self._thread

    def _wake(self) -> None:
        if self._core.wake:
            self._core.wake = False
            self._work.notify_all()

    def _abort(self, error: SluiceError) -> None:
        with self._lock:
            self._state = "aborted"
            failed = self._core.fail_all(error)
            call = self._call
            self._notify_all()
        if call is not None:
            call.cancel()
        settle_all(failed)

    def _notify_all(self) -> None:
        self._work.notify_all()
        self._room.notify_all()
        self._settled.notify_all()

    def _run(self) -> None:
        """The dial loop: a stream while there is work, until closed. It
        ends once closing and nothing is pending, or when aborted."""
        while True:
            with self._lock:
                self._work.wait_for(lambda: self._core.has_work or self._state != "open")
                if self._state == "aborted" or self._state == "closing" and not self._core.has_work:
                    break
                self._stream = stream = self._stream + 1
            error = self._read(stream)
            with self._lock:
                self._stream, self._call = 0, None
                self._core.requeue()
                self._work.notify_all()  # the writer of the old stream ends
                if self._state == "aborted" or self._state == "closing" and self._core.idle:
                    break
                delay = self._reconnector.failed(error)
                failed = [] if delay is not None else self._core.fail_all(self._reconnector.giving_up(error))
                self._notify_all()
            settle_all(failed)
            if delay:
                with self._lock:
                    self._work.wait_for(lambda: self._state == "aborted", delay)
        with self._lock:
            self._state = "closed"
        self._on_closed(self)

    def _read(self, stream: int) -> SluiceError:
        """Runs one stream to its end; returns why it ended."""
        try:
            call = self._stub.PublishStream(self._requests(stream))
        except ValueError as error:  # the channel is closed
            return SluiceError(grpc.StatusCode.FAILED_PRECONDITION, f"the client is closed: {error}")
        with self._lock:
            self._call = call
            if self._state == "aborted":
                call.cancel()
        answered = False
        try:
            for response in call:
                with self._lock:
                    if not answered:
                        answered = True
                        self._reconnector.succeeded()
                    settled = self._core.answered(response)
                    self._core.wake = False
                    self._notify_all()
                settle_all(settled)
        except grpc.RpcError as error:
            return SluiceError.from_rpc_error(error)
        return SluiceError(grpc.StatusCode.UNAVAILABLE, "the broker ended the publish stream")

    def _requests(self, stream: int) -> Iterator[broker_pb2.PublishStreamRequest]:
        """The requests of one stream, run by gRPC's sending thread; it
        returns (half-closing the stream) once closing and all is written."""
        while True:
            with self._lock:
                while True:
                    if self._stream != stream or self._core.done_writing:
                        return
                    step = self._core.next_request()
                    if isinstance(step, broker_pb2.PublishStreamRequest):
                        break
                    self._work.wait(step)
            yield step

