"""The bookkeeping of a stream's dial loop (publishers and subscriptions)."""

from __future__ import annotations

import logging

from sluice_client.backoff import Reconnect, backoff_delay, is_retryable
from sluice_client.errors import SluiceError

_log = logging.getLogger("sluice_client.publisher")


class Reconnector:
    """Counts consecutive failures of a stream, decides whether to try again
    and how long to wait first, and logs each step on ``log`` (by default the
    ``sluice_client.publisher`` logger), naming the stream ``kind`` ("publish",
    "subscribe"). Not thread-safe: its owner calls it from one thread at a
    time (under its lock, on its own thread or on its event loop)."""

    def __init__(self, policy: Reconnect, topic: str, kind: str = "publish", log: logging.Logger = _log) -> None:
        self._policy = policy
        self._topic = topic
        self._kind = kind
        self._log = log
        self._failures = 0

    def succeeded(self) -> None:
        """The broker answered on the stream: the count starts over."""
        if self._failures:
            self._log.info("sluice %s stream to %r reconnected after %d failures",
                           self._kind, self._topic, self._failures)
        self._failures = 0

    def failed(self, error: SluiceError) -> float | None:
        """The stream broke with ``error`` (or could not be opened). Returns
        the seconds to wait before the next attempt, or ``None`` to give up:
        for an error retrying cannot fix, or after ``max_attempts``
        consecutive failures (the count then starts over)."""
        self._failures += 1
        limit = self._policy.max_attempts
        retry = is_retryable(error.code) and (limit is None or self._failures <= limit)
        self._log.warning(
            "sluice %s stream to %r broke (%s: %s; failure %d)%s",
            self._kind, self._topic, error.code.name, error.details, self._failures, "" if retry else "; giving up",
        )
        if not retry:
            self._failures = 0
            return None
        return backoff_delay(self._failures, self._policy)

    def giving_up(self, error: SluiceError) -> SluiceError:
        """The error to end with (pending sends, a subscription) once ``failed``
        said to give up."""
        if not is_retryable(error.code):
            return error
        limit = self._policy.max_attempts
        result = SluiceError(error.code, f"gave up after {limit} failed attempts to reach the broker: {error.details}")
        result.__cause__ = error
        return result
