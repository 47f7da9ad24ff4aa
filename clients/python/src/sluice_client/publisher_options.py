"""The options of ``Client.publisher`` and ``AsyncClient.publisher``."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping, TypedDict

from sluice_client import _convert
from sluice_client.backoff import Reconnect
from sluice_client.values import Seconds

__all__ = ["PublisherOptions"]


class PublisherOptions(TypedDict, total=False):
    """Keyword options of a publisher; every one has a default.

    - ``max_batch_messages``: the most messages in one request. Default 1000.
    - ``max_batch_bytes``: the most bytes in one request (a larger single
      message goes alone). Default 1 MiB.
    - ``linger``: how long a request that is not full waits for more
      messages, in seconds (or a ``timedelta``). Default 0.005.
    - ``max_unconfirmed_bytes``: the most bytes sent or batched but not yet
      confirmed. A ``send`` beyond it waits until confirmations make room;
      a ``send_batch`` goes through in parts of at most this many bytes.
      Default 64 MiB.
    - ``auto_message_id``: give every message without a ``message_id`` a
      unique one (a random prefix and a counter), so that a resend after a
      broken stream is deduplicated by the broker. Default true.
    - ``reconnect``: the reconnection policy, a ``Reconnect``. Default
      ``Reconnect()``: 0.1 s doubling to 5 s, 50 % jitter, no limit.
    """

    max_batch_messages: int
    max_batch_bytes: int
    linger: Seconds
    max_unconfirmed_bytes: int
    auto_message_id: bool
    reconnect: Reconnect


@dataclass(frozen=True)
class PublisherSettings:
    """Publisher options with the defaults filled in and checked."""

    max_batch_messages: int = 1000
    max_batch_bytes: int = 1024 * 1024
    linger: float = 0.005
    max_unconfirmed_bytes: int = 64 * 1024 * 1024
    auto_message_id: bool = True
    reconnect: Reconnect = Reconnect()


def _positive(options: Mapping[str, object], name: str, default: int) -> int:
    value = options.get(name, default)
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"{name} must be a positive int, got {value!r}")
    return value


def publisher_settings(options: Mapping[str, object]) -> PublisherSettings:
    """The settings for ``options`` (a ``PublisherOptions``). Raises
    ``TypeError`` for an unknown option or a ``reconnect`` that is not a
    ``Reconnect``, ``ValueError`` for a value out of range."""
    unknown = set(options) - set(PublisherOptions.__annotations__)
    if unknown:
        raise TypeError(f"unknown publisher option(s): {', '.join(sorted(unknown))}")
    defaults = PublisherSettings()
    linger = _convert.seconds(options.get("linger", defaults.linger))  # type: ignore[arg-type]
    if linger < 0:
        raise ValueError(f"linger must not be negative, got {linger}")
    reconnect = options.get("reconnect", defaults.reconnect)
    if not isinstance(reconnect, Reconnect):
        raise TypeError(f"reconnect must be a Reconnect, got {type(reconnect).__name__}")
    return PublisherSettings(
        max_batch_messages=_positive(options, "max_batch_messages", defaults.max_batch_messages),
        max_batch_bytes=_positive(options, "max_batch_bytes", defaults.max_batch_bytes),
        linger=linger,
        max_unconfirmed_bytes=_positive(options, "max_unconfirmed_bytes", defaults.max_unconfirmed_bytes),
        auto_message_id=bool(options.get("auto_message_id", defaults.auto_message_id)),
        reconnect=reconnect,
    )
