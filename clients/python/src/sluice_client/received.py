"""A message delivered by a subscription, with its ack verbs."""

from __future__ import annotations

import datetime as _dt
from typing import Callable, Mapping

from sluice_client import _convert
from sluice_client._gen.sluice.v1 import broker_pb2
from sluice_client.values import Position, Seconds

__all__ = ["ReceivedMessage"]

_Send = Callable[[broker_pb2.SubscribeRequest], None]


class ReceivedMessage:
    """One message leased to a subscription.

    Settle it with ``ack()`` (done: never delivered to the group again) or
    ``nack()`` (give it back for redelivery); ``extend()`` keeps the lease
    while work goes on. The verbs only queue a request on the subscription's
    stream and return at once; they raise ``SluiceError`` once the
    subscription is closed. Only the first ``ack`` or ``nack`` of a message
    is sent: settling it again does nothing. A message neither acked nor
    extended by ``deadline`` is redelivered, with ``attempt`` one higher.
    """

    __slots__ = (
        "topic", "partition", "offset", "key", "payload", "headers",
        "publish_time", "message_id", "attempt", "deadline", "_send", "_settled",
    )

    def __init__(
        self,
        delivery: broker_pb2.Delivery,
        deadline: _dt.datetime | None,
        send: _Send,
    ) -> None:
        message = delivery.message
        self.topic: str = message.topic
        self.partition: int = message.partition
        self.offset: int = message.offset
        self.key: str = message.key
        self.payload: bytes = message.payload
        self.headers: Mapping[str, str] = dict(message.headers)
        self.publish_time: _dt.datetime | None = (
            _convert.to_datetime(message.publish_time) if message.HasField("publish_time") else None
        )
        self.message_id: str = message.message_id
        self.attempt: int = delivery.attempt
        self.deadline: _dt.datetime | None = deadline
        self._send = send
        self._settled = False

    @property
    def position(self) -> Position:
        """The message's (partition, offset)."""
        return Position(self.partition, self.offset)

    @property
    def settled(self) -> bool:
        """Whether ``ack`` or ``nack`` was called."""
        return self._settled

    def ack(self) -> None:
        """Acknowledges the message."""
        if self._settled:
            return
        self._send(broker_pb2.SubscribeRequest(ack=broker_pb2.SubscribeRequest.Ack(
            positions=_convert.positions([self.position]))))
        self._settled = True

    def nack(self, delay: Seconds | None = None) -> None:
        """Gives the message back, to be redelivered after ``delay`` (default at once)."""
        if self._settled:
            return
        nack = broker_pb2.SubscribeRequest.Nack(positions=_convert.positions([self.position]))
        if delay is not None:
            nack.delay.CopyFrom(_convert.duration(delay))
        self._send(broker_pb2.SubscribeRequest(nack=nack))
        self._settled = True

    def extend(self, deadline: Seconds) -> None:
        """Extends the lease to ``deadline`` from now (1 s to 600 s)."""
        self._send(broker_pb2.SubscribeRequest(extend=broker_pb2.SubscribeRequest.Extend(
            positions=_convert.positions([self.position]), deadline=_convert.duration(deadline))))

    def __repr__(self) -> str:
        return (f"ReceivedMessage(topic={self.topic!r}, partition={self.partition}, "
                f"offset={self.offset}, attempt={self.attempt}, payload={self.payload[:32]!r})")
