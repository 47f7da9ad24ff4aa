"""A consumer group subscription over the Subscribe stream (blocking API)."""

from __future__ import annotations

import queue
import threading
from typing import Iterator

import grpc

from sluice_client import _convert
from sluice_client._coalesce import take_queued
from sluice_client._gen.sluice.v1 import broker_pb2, broker_pb2_grpc, message_pb2
from sluice_client.errors import SluiceError
from sluice_client.received import ReceivedMessage

__all__ = ["Subscription"]

_END = object()  # in the inbox: the stream is over


class Subscription:
    """An open Subscribe stream: iterate it for messages, ack them on it.

    Made by ``Client.subscribe``, which returns once the broker answered
    ``subscribed``. A background thread reads the stream into an inbox; acks,
    nacks and extensions go out through a queue feeding the request side,
    in the order they were made, acks queued together merged into one
    request. Iteration ends when the stream ends:
    after ``close()`` quietly, or with ``SluiceError`` if the broker ended it
    with an error (for example ``ABORTED`` when the group was deleted).

    ``close()`` sends everything queued, half-closes the stream and waits for
    the broker to end it; messages not acked by then go back to the group.
    Use it as a context manager to close it on the way out.
    """

    def __init__(
        self,
        stub: broker_pb2_grpc.BrokerServiceStub,
        open_request: broker_pb2.SubscribeRequest,
        *,
        timeout: float,
    ) -> None:
        self._requests: queue.SimpleQueue[broker_pb2.SubscribeRequest | None] = queue.SimpleQueue()
        self._inbox: queue.SimpleQueue[object] = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._closing = False
        self._error: SluiceError | None = None
        self._subscribed = threading.Event()
        self._info: broker_pb2.SubscribeResponse.Subscribed | None = None

        self._requests.put(open_request)
        self._call = stub.Subscribe(self._request_iterator())
        self._reader = threading.Thread(target=self._read, name="sluice-subscription", daemon=True)
        self._reader.start()
        if not self._subscribed.wait(timeout):
            self._call.cancel()
            self._reader.join(timeout)
            raise SluiceError(grpc.StatusCode.DEADLINE_EXCEEDED,
                              f"no answer to open within {timeout} s")
        if self._error is not None:
            raise self._error
        if self._info is None:
            raise SluiceError(grpc.StatusCode.UNKNOWN, "the stream ended before it was subscribed")

    @property
    def consumer_id(self) -> str:
        """This stream's id within the group, as ``get_group`` shows it."""
        assert self._info is not None
        return self._info.consumer_id

    @property
    def partitions(self) -> int:
        """The topic's partition count."""
        assert self._info is not None
        return self._info.partitions

    @property
    def settings(self) -> message_pb2.GroupSettings:
        """The group's settings in force."""
        assert self._info is not None
        return self._info.settings

    def receive(self, timeout: float | None = None) -> ReceivedMessage | None:
        """Returns the next message, or ``None`` once the stream has ended.

        Raises ``TimeoutError`` when ``timeout`` seconds pass without one, and
        ``SluiceError`` when the broker ended the stream with an error.
        """
        try:
            item = self._inbox.get(timeout=timeout)
        except queue.Empty:
            raise TimeoutError(f"no message within {timeout} s") from None
        if item is _END:
            self._inbox.put(_END)  # every later call sees the end too
            if self._error is not None:
                raise self._error
            return None
        assert isinstance(item, ReceivedMessage)
        return item

    def __iter__(self) -> Iterator[ReceivedMessage]:
        while (message := self.receive()) is not None:
            yield message

    def close(self, timeout: float = 10.0) -> None:
        """Sends what is queued, ends the stream and waits for the broker.

        Cancels the stream if the broker has not ended it within ``timeout``.
        Closing twice does nothing.
        """
        with self._lock:
            if self._closing:
                return
            self._closing = True
            self._requests.put(None)
        self._reader.join(timeout)
        if self._reader.is_alive():
            self._call.cancel()
            self._reader.join(timeout)

    @property
    def closed(self) -> bool:
        """Whether the stream is closed or over."""
        return self._closing or not self._reader.is_alive()

    def __enter__(self) -> "Subscription":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _send(self, request: broker_pb2.SubscribeRequest) -> None:
        with self._lock:
            if self._closing:
                raise SluiceError(grpc.StatusCode.FAILED_PRECONDITION, "the subscription is closed")
            self._requests.put(request)

    def _request_iterator(self) -> Iterator[broker_pb2.SubscribeRequest]:
        request = self._requests.get()
        while request is not None:
            # What queued up meanwhile goes out with it, acks merged.
            batch, more = take_queued(request, self._requests.get_nowait, queue.Empty)
            yield from batch
            if not more:
                return
            request = self._requests.get()

    def _read(self) -> None:
        try:
            for response in self._call:
                kind = response.WhichOneof("response")
                if kind == "subscribed":
                    self._info = response.subscribed
                    self._subscribed.set()
                elif kind == "deliveries":
                    batch = response.deliveries
                    deadline = _convert.to_datetime(batch.deadline) if batch.HasField("deadline") else None
                    for delivery in batch.deliveries:
                        self._inbox.put(ReceivedMessage(delivery, deadline, self._send))
        except grpc.RpcError as error:
            if not (self._closing and error.code() == grpc.StatusCode.CANCELLED):
                self._error = SluiceError.from_rpc_error(error)
        finally:
            with self._lock:
                self._closing = True
                self._requests.put(None)  # lets gRPC's request thread finish
            self._inbox.put(_END)
            self._subscribed.set()
