"""What the blocking and asyncio subscriptions share: reading a Subscribe
response, which requests a reconnection voids, and the stream's facts."""

from __future__ import annotations

import asyncio
import logging
import threading
from typing import Callable, Iterator

import grpc

from sluice_client import _convert
from sluice_client._gen.sluice.v1 import broker_pb2, message_pb2
from sluice_client._reconnector import Reconnector
from sluice_client.errors import SluiceError
from sluice_client.received import ReceivedMessage

log = logging.getLogger("sluice_client.subscription")

END = object()  # in an inbox: the subscription is over

Send = Callable[[broker_pb2.SubscribeRequest], None]


def delivered(batch: broker_pb2.SubscribeResponse.Deliveries, send: Send) -> Iterator[ReceivedMessage]:
    """The messages of one ``deliveries`` response, settled through ``send``."""
    deadline = _convert.to_datetime(batch.deadline) if batch.HasField("deadline") else None
    for delivery in batch.deliveries:
        yield ReceivedMessage(delivery, deadline, send)


def void_on_new_stream(request: broker_pb2.SubscribeRequest) -> bool:
    """Whether ``request``, made for a message of a stream that has since
    broken, means nothing on the stream that replaced it. The broker takes an
    ack of any position the group has not yet acked, whoever holds it, so an
    ack still spares a redelivery; nacks and extensions apply only to leases
    of the stream they arrive on, and the broken stream's leases are gone."""
    return request.WhichOneof("request") in ("nack", "extend")


def stream_error(error: grpc.RpcError, closing: bool) -> SluiceError | None:
    """The error a stream ended with, or ``None`` for the cancellation that
    ``close()`` asked for."""
    if closing and error.code() == grpc.StatusCode.CANCELLED:
        return None
    return SluiceError.from_rpc_error(error)


def client_closed(error: Exception) -> SluiceError:
    """What ends a subscription whose client closed its channel under it."""
    return SluiceError(grpc.StatusCode.FAILED_PRECONDITION, f"the client is closed: {error}")


def topic_of(open_request: broker_pb2.SubscribeRequest) -> str:
    return open_request.open.topic


class SubscriptionBase:
    """What the blocking and asyncio subscriptions do alike: take in the
    stream's responses, decide what follows a broken stream, and report the
    facts the broker answered ``subscribed`` with on the latest stream."""

    _info: broker_pb2.SubscribeResponse.Subscribed | None
    _error: SluiceError | None
    _reconnector: Reconnector
    _subscribed: threading.Event | asyncio.Event

    def _take_in(self, response: broker_pb2.SubscribeResponse, send: Send) -> Iterator[ReceivedMessage]:
        """Records a ``subscribed`` answer; yields the messages of a ``deliveries`` one."""
        kind = response.WhichOneof("response")
        if kind == "subscribed":
            self._info = response.subscribed
            self._reconnector.succeeded()
            self._subscribed.set()
        elif kind == "deliveries":
            yield from delivered(response.deliveries, send)

    def _backoff_after(self, error: SluiceError) -> float | None:
        """The delay before reopening after the stream broke with ``error``, or
        ``None`` when the subscription ends (with ``error`` or the giving-up
        error recorded)."""
        if self._info is None:
            self._error = error  # the first open failed: subscribe raises it
            return None
        delay = self._reconnector.failed(error)
        if delay is None:
            self._error = self._reconnector.giving_up(error)
        return delay

    @property
    def consumer_id(self) -> str:
        """The current stream's id within the group, as ``get_group`` shows it.
        A reconnection opens a new stream, with a new id."""
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
