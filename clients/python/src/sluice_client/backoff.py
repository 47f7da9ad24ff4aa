"""How publishers and subscriptions wait between attempts to reopen a broken stream."""

from __future__ import annotations

import random as _random
from dataclasses import dataclass
from typing import Callable

import grpc

__all__ = ["Reconnect", "backoff_delay", "is_retryable"]

# Codes after which a stream is worth reopening: the broker or the path to it
# had trouble, not the request.
_RETRYABLE = frozenset({
    grpc.StatusCode.UNAVAILABLE,
    grpc.StatusCode.INTERNAL,
    grpc.StatusCode.UNKNOWN,
    grpc.StatusCode.CANCELLED,
    grpc.StatusCode.DEADLINE_EXCEEDED,
})


@dataclass(frozen=True)
class Reconnect:
    """A reconnection policy: exponential backoff with jitter, and a bound on
    consecutive failed attempts.

    The delay before retry ``n`` is ``min(max_delay, initial_delay *
    multiplier ** (n - 1))`` seconds, shortened by a random fraction of up
    to ``jitter`` so that many clients that lost the same broker do not come
    back in lockstep. After ``max_attempts`` consecutive failures (``None``:
    never) a publisher gives up and fails what is pending with the last
    error, and a subscription ends with it. Raises ``ValueError`` for a negative delay, a multiplier below 1,
    a jitter outside 0 to 1, or ``max_attempts`` below 1.
    """

    initial_delay: float = 0.1
    max_delay: float = 5.0
    multiplier: float = 2.0
    jitter: float = 0.5
    max_attempts: int | None = None

    def __post_init__(self) -> None:
        if self.initial_delay < 0 or self.max_delay < 0:
            raise ValueError("reconnect delays must not be negative")
        if self.multiplier < 1:
            raise ValueError(f"reconnect multiplier must be at least 1, got {self.multiplier}")
        if not 0 <= self.jitter <= 1:
            raise ValueError(f"reconnect jitter must be within 0 to 1, got {self.jitter}")
        if self.max_attempts is not None and self.max_attempts < 1:
            raise ValueError(f"reconnect max_attempts must be at least 1 or None, got {self.max_attempts}")


def backoff_delay(attempt: int, policy: Reconnect, random: Callable[[], float] = _random.random) -> float:
    """The delay in seconds before retry number ``attempt`` (1 for the first).

    Pure but for ``random`` (a function returning [0, 1)), which tests fix.
    The result is within ``[base * (1 - jitter), base]``, where ``base`` is
    the policy's exponential delay capped at ``max_delay``.
    """
    n = max(1, attempt)
    try:
        exponential = policy.initial_delay * policy.multiplier ** (n - 1)
    except OverflowError:
        exponential = policy.max_delay
    base = min(policy.max_delay, exponential)
    return base * (1 - policy.jitter * random())


def is_retryable(code: grpc.StatusCode) -> bool:
    """Whether a stream that ended with ``code`` is worth reopening:
    ``UNAVAILABLE``, ``INTERNAL``, ``UNKNOWN``, ``CANCELLED`` and
    ``DEADLINE_EXCEEDED`` are; any other code is an answer retrying cannot
    change (``PERMISSION_DENIED``, ``RESOURCE_EXHAUSTED``, ...)."""
    return code in _RETRYABLE
