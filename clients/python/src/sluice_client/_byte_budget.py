"""The bound on a publisher's unconfirmed bytes. Pure: no locks, no I/O."""

from __future__ import annotations

from collections import deque
from typing import Generic, Protocol, TypeVar


class _Sized(Protocol):
    bytes: int
    waiting: bool


S = TypeVar("S", bound=_Sized)


class ByteBudget(Generic[S]):
    """A bound on bytes in use with a FIFO of waiting items. ``acquire``
    grants at once when the bytes fit and nobody waits ahead; otherwise the
    item waits (``waiting`` set), in order, until ``release`` makes room. An
    item larger than the whole bound is granted when nothing else is in use,
    so it cannot wait forever."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.used = 0
        self._waiting: deque[S] = deque()

    @property
    def waiting(self) -> int:
        return len(self._waiting)

    def _fits(self, size: int) -> bool:
        return self.used == 0 or self.used + size <= self.limit

    def acquire(self, item: S) -> bool:
        """Whether ``item`` is granted now; if not, it waits."""
        if not self._waiting and self._fits(item.bytes):
            self.used += item.bytes
            return True
        item.waiting = True
        self._waiting.append(item)
        return False

    def release(self, size: int) -> list[S]:
        """Gives back ``size`` bytes; returns the waiting items granted, in order."""
        self.used = max(0, self.used - size)
        granted: list[S] = []
        while self._waiting and self._fits(self._waiting[0].bytes):
            item = self._waiting.popleft()
            item.waiting = False
            self.used += item.bytes
            granted.append(item)
        return granted

    def take_waiting(self) -> list[S]:
        """Removes and returns every waiting item, in order, without granting it."""
        items = list(self._waiting)
        self._waiting.clear()
        return items
