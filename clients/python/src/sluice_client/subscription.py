"""A consumer group subscription over the Subscribe stream (blocking API)."""

from __future__ import annotations

import functools
import queue
import threading
from typing import Iterator

import grpc

from sluice_client._coalesce import take_queued
from sluice_client._gen.sluice.v1 import broker_pb2, broker_pb2_grpc
from sluice_client._reconnector import Reconnector
from sluice_client._subscription_core import (
    END, SubscriptionBase, client_closed, log, stream_error, topic_of, void_on_new_stream,
)
from sluice_client.backoff import Reconnect
from sluice_client.errors import SluiceError
from sluice_client.received import ReceivedMessage

__all__ = ["Subscription"]

class Subscription(SubscriptionBase):
    """An open Subscribe stream: iterate it for messages, ack them on it.

    Made by ``Client.subscribe``, which returns once the broker answered
    ``subscribed`` (a first open that fails raises). A background thread
    reads the stream into an inbox; acks, nacks and extensions go out through
    a queue feeding the request side, in the order they were made, acks
    queued together merged into one request.

    When the stream breaks with a retryable code (``UNAVAILABLE``,
    ``INTERNAL``, ``UNKNOWN``, ``CANCELLED``, ``DEADLINE_EXCEEDED``: the
    broker restarts, the connection drops), the subscription opens Subscribe
    again with the same topic, group and options after the ``reconnect``
    policy's backoff, and iteration goes on. Messages received from the
    broken stream but not yet taken from the inbox are dropped: the broker
    gives them back to the group and redelivers them. Acks of messages taken
    before the break are sent on the new stream (the broker acks a position
    whoever holds it); their nacks and extensions are void (those leases are
    gone). ``consumer_id`` is the new stream's.

    Iteration ends after ``close()`` quietly, or with ``SluiceError`` for a
    code retrying cannot fix (``ABORTED`` when the group is deleted,
    ``NOT_FOUND``, ``PERMISSION_DENIED``, ...) or once ``max_attempts``
    consecutive attempts failed.

    ``close()`` sends everything queued, half-closes the stream and waits for
    the broker to end it; messages not acked by then go back to the group.
    During a backoff it ends the subscription at once. Use it as a context
    manager to close it on the way out.
    """

    def __init__(
        self,
        stub: broker_pb2_grpc.BrokerServiceStub,
        open_request: broker_pb2.SubscribeRequest,
        *,
        timeout: float,
        reconnect: Reconnect = Reconnect(),
    ) -> None:
        self._stub = stub
        self._open_request = open_request
        self._reconnector = Reconnector(reconnect, topic_of(open_request), "subscribe", log)
        self._inbox: queue.SimpleQueue[object] = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._closing = False
        self._stopped = threading.Event()  # wakes a backoff for close()
        self._error: SluiceError | None = None
        self._subscribed = threading.Event()
        self._info: broker_pb2.SubscribeResponse.Subscribed | None = None
        self._generation = 0
        self._requests = self._fresh_requests()
        self._call = stub.Subscribe(self._request_iterator(self._requests))
        self._reader = threading.Thread(target=self._run, name="sluice-subscription", daemon=True)
        self._reader.start()
        if not self._subscribed.wait(timeout):
            with self._lock:
                self._closing = True
            self._call.cancel()
            self._reader.join(timeout)
            raise SluiceError(grpc.StatusCode.DEADLINE_EXCEEDED,
                              f"no answer to open within {timeout} s")
        if self._error is not None:
            raise self._error
        if self._info is None:
            raise SluiceError(grpc.StatusCode.UNKNOWN, "the stream ended before it was subscribed")

    def receive(self, timeout: float | None = None) -> ReceivedMessage | None:
        """Returns the next message, or ``None`` once the subscription has ended.

        Waits through reconnections. Raises ``TimeoutError`` when ``timeout``
        seconds pass without one, and ``SluiceError`` when the subscription
        ended with an error.
        """
        try:
            item = self._inbox.get(timeout=timeout)
        except queue.Empty:
            raise TimeoutError(f"no message within {timeout} s") from None
        if item is END:
            self._inbox.put(END)  # every later call sees the end too
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

        Cancels the stream if the broker has not ended it within ``timeout``;
        during a reconnection backoff, returns at once. Closing twice does
        nothing.
        """
        with self._lock:
            if self._closing:
                return
            self._closing = True
            self._requests.put(None)
            self._stopped.set()
        self._reader.join(timeout)
        if self._reader.is_alive():
            self._call.cancel()
            self._reader.join(timeout)

    @property
    def closed(self) -> bool:
        """Whether the subscription is closed or over."""
        return self._closing or not self._reader.is_alive()

    def __enter__(self) -> "Subscription":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _fresh_requests(self) -> "queue.SimpleQueue[broker_pb2.SubscribeRequest | None]":
        requests: queue.SimpleQueue[broker_pb2.SubscribeRequest | None] = queue.SimpleQueue()
        requests.put(self._open_request)
        return requests

    def _send(self, generation: int, request: broker_pb2.SubscribeRequest) -> None:
        with self._lock:
            if self._closing:
                raise SluiceError(grpc.StatusCode.FAILED_PRECONDITION, "the subscription is closed")
            if generation != self._generation and void_on_new_stream(request):
                return
            self._requests.put(request)

    def _request_iterator(
        self, requests: "queue.SimpleQueue[broker_pb2.SubscribeRequest | None]"
    ) -> Iterator[broker_pb2.SubscribeRequest]:
        request = requests.get()
        while request is not None:
            # What queued up meanwhile goes out with it, acks merged.
            batch, more = take_queued(request, requests.get_nowait, queue.Empty)
            yield from batch
            if not more:
                return
            request = requests.get()

    def _run(self) -> None:
        try:
            while (error := self._read()) is not None:
                delay = self._backoff_after(error)
                if delay is None:
                    return
                if self._stopped.wait(delay):
                    return
                with self._lock:
                    if self._closing:
                        return
                    try:
                        self._call = self._stub.Subscribe(self._request_iterator(self._requests))
                    except ValueError as closed:
                        self._error = client_closed(closed)
                        return
        finally:
            with self._lock:
                self._closing = True
                self._requests.put(None)  # lets gRPC's request thread finish
            self._inbox.put(END)
            self._subscribed.set()

    def _read(self) -> SluiceError | None:
        """Reads the current stream to its end. Returns the error to reconnect
        after, having retired the stream's requests and its undelivered
        messages, or ``None`` when the subscription is over."""
        send = functools.partial(self._send, self._generation)
        try:
            for response in self._call:
                for message in self._take_in(response, send):
                    self._inbox.put(message)
            return None
        except grpc.RpcError as rpc_error:
            error = stream_error(rpc_error, self._closing)
        with self._lock:
            if error is None or self._closing:
                self._error = error
                return None
            self._requests.put(None)
            self._generation += 1
            self._requests = self._fresh_requests()
        while True:  # the broker redelivers these
            try:
                self._inbox.get_nowait()
            except queue.Empty:
                return error
