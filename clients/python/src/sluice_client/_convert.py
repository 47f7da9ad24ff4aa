"""Conversions between the client's plain values and the generated messages."""

from __future__ import annotations

import datetime as _dt
from typing import Callable, Iterable

import grpc
from google.protobuf import duration_pb2, timestamp_pb2

from sluice_client._gen.sluice.v1 import broker_pb2, message_pb2
from sluice_client.values import Outgoing, Publishable, PublishResult, Seconds, Start


def seconds(value: Seconds) -> float:
    if isinstance(value, _dt.timedelta):
        return value.total_seconds()
    return float(value)


def duration(value: Seconds) -> duration_pb2.Duration:
    total = seconds(value)
    whole = int(total)
    return duration_pb2.Duration(seconds=whole, nanos=int(round((total - whole) * 1e9)))


def timestamp(value: _dt.datetime) -> timestamp_pb2.Timestamp:
    result = timestamp_pb2.Timestamp()
    result.FromDatetime(value if value.tzinfo else value.replace(tzinfo=_dt.timezone.utc))
    return result


def to_datetime(value: timestamp_pb2.Timestamp) -> _dt.datetime:
    return value.ToDatetime(tzinfo=_dt.timezone.utc)


def start_position(start: Start | None) -> message_pb2.StartPosition | None:
    Kind = message_pb2.StartPosition.Kind
    if start is None:
        return None
    if isinstance(start, bool):
        raise TypeError("start must be 'earliest', 'latest', an offset or a datetime")
    if isinstance(start, int):
        return message_pb2.StartPosition(kind=Kind.KIND_OFFSET, offset=start)
    if isinstance(start, _dt.datetime):
        return message_pb2.StartPosition(kind=Kind.KIND_TIMESTAMP, time=timestamp(start))
    if start == "earliest":
        return message_pb2.StartPosition(kind=Kind.KIND_EARLIEST)
    if start == "latest":
        return message_pb2.StartPosition(kind=Kind.KIND_LATEST)
    raise ValueError(f"unknown start {start!r}: use 'earliest', 'latest', an offset or a datetime")


def group_settings(ack_deadline: Seconds | None) -> message_pb2.GroupSettings | None:
    if ack_deadline is None:
        return None
    return message_pb2.GroupSettings(ack_deadline=duration(ack_deadline))


def publish_message(item: Publishable, message_id: str = "") -> message_pb2.PublishMessage:
    """The wire form of a message; ``message_id`` is used when it has none.
    Raises ``TypeError`` for something else than bytes, str or ``Outgoing``,
    ``ValueError`` for a partition outside uint32."""
    if isinstance(item, (bytes, bytearray, memoryview)):
        return message_pb2.PublishMessage(payload=bytes(item), message_id=message_id)
    if isinstance(item, str):
        return message_pb2.PublishMessage(payload=item.encode(), message_id=message_id)
    if isinstance(item, Outgoing):
        payload = item.payload.encode() if isinstance(item.payload, str) else bytes(item.payload)
        result = message_pb2.PublishMessage(
            key=item.key, payload=payload, headers=dict(item.headers), message_id=item.message_id or message_id
        )
        if item.partition is not None:
            result.partition = item.partition
        return result
    raise TypeError(f"cannot publish a {type(item).__name__}: use bytes, str or Outgoing")


def publish_messages(messages: Publishable | Iterable[Publishable]) -> list[message_pb2.PublishMessage]:
    # A lone payload is one message, not an iterable of bytes or characters.
    if isinstance(messages, _LONE):
        messages = [messages]
    return [publish_message(item) for item in messages]


# What is one message, not an iterable of bytes or characters.
_LONE = (bytes, bytearray, memoryview, str, Outgoing)


def estimate_bytes(message: message_pb2.PublishMessage) -> int:
    """An upper estimate of a message's encoded size, for the publisher's
    bounds, without encoding it."""
    size = 16 + len(message.payload) + len(message.key.encode()) + len(message.message_id.encode())
    for name, value in message.headers.items():
        size += 8 + len(name.encode()) + len(value.encode())
    return size


def publish_results(results: Iterable[message_pb2.PublishResult]) -> list[PublishResult]:
    return [PublishResult(r.partition, r.offset, r.duplicate) for r in results]


def batch_messages(
    messages: Iterable[Publishable], message_id: Callable[[], str]
) -> list[message_pb2.PublishMessage]:
    """The wire form of a ``send_batch``'s messages, each without an id given
    ``message_id()``. Raises ``TypeError`` for a lone message (not in an
    iterable), ``TypeError`` or ``ValueError`` naming the first malformed one."""
    if isinstance(messages, _LONE):
        raise TypeError("send_batch takes an iterable of messages; use send for one")
    wire = []
    for i, item in enumerate(messages):
        try:
            wire.append(publish_message(item, message_id()))
        except (TypeError, ValueError) as error:
            raise type(error)(f"message {i} of the batch: {error}") from error
    return wire


def open_request(
    topic: str,
    group: str,
    *,
    max_in_flight: int | None,
    start: Start | None,
    ack_deadline: Seconds | None,
    consumer_name: str,
) -> broker_pb2.SubscribeRequest:
    request = broker_pb2.SubscribeRequest.Open(
        topic=topic, group=group, max_in_flight=max_in_flight or 0, consumer_name=consumer_name
    )
    position = start_position(start)
    if position is not None:
        request.start.CopyFrom(position)
    settings = group_settings(ack_deadline)
    if settings is not None:
        request.settings.CopyFrom(settings)
    return broker_pb2.SubscribeRequest(open=request)


def positions(items: Iterable[tuple[int, int]]) -> list[message_pb2.Position]:
    return [message_pb2.Position(partition=p, offset=o) for p, o in items]


_STATUS_CODES = {code.value[0]: code for code in grpc.StatusCode}


def status_code(value: int) -> grpc.StatusCode:
    """The ``grpc.StatusCode`` of a numeric code; ``UNKNOWN`` for 0 or a number gRPC does not define."""
    code = _STATUS_CODES.get(value, grpc.StatusCode.UNKNOWN)
    return grpc.StatusCode.UNKNOWN if code is grpc.StatusCode.OK else code
