"""Plain values the client takes and returns."""

from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass, field
from typing import Mapping, NamedTuple, Union

__all__ = ["Position", "PublishResult", "Outgoing", "Publishable", "Start", "Seconds"]


class Position(NamedTuple):
    """Where a message is: its partition and its offset within it."""

    partition: int
    offset: int


class PublishResult(NamedTuple):
    """Where a published message is stored. ``duplicate`` is true when the
    topic already held a message with the same ``message_id`` within its
    dedupe window: nothing new was stored, and the position is the original's."""

    partition: int
    offset: int
    duplicate: bool = False

    @property
    def position(self) -> Position:
        return Position(self.partition, self.offset)


@dataclass(frozen=True)
class Outgoing:
    """A message to publish, when more than a payload is needed.

    ``partition`` overrides the key hash; ``message_id`` is stored and
    delivered with the message.
    """

    payload: bytes | str
    key: str = ""
    headers: Mapping[str, str] = field(default_factory=dict)
    partition: int | None = None
    message_id: str = ""


Publishable = Union[bytes, str, Outgoing]
"""What ``publish`` takes per message: a payload (``str`` is sent as UTF-8) or
an ``Outgoing``."""

Start = Union[str, int, _dt.datetime]
"""A new group's start: ``"earliest"``, ``"latest"``, an offset, or a time."""

Seconds = Union[float, int, _dt.timedelta]
"""A duration: seconds, or a ``timedelta``."""
