"""Gathering a publisher's messages into requests. Pure: no timers, no I/O."""

from __future__ import annotations

from typing import Callable, Generic, TypeVar

T = TypeVar("T")


class Batcher(Generic[T]):
    """Gathers items into batches bounded by count and bytes; an item counts
    as one or as several (a part of a ``send_batch``). A batch is sealed
    (handed to ``seal``) once it reaches ``max_items`` or ``max_bytes``, or
    on ``flush()``. An item that would take a non-empty batch past a bound
    seals the batch first, so only an item over a bound by itself makes a
    batch over it."""

    def __init__(self, max_items: int, max_bytes: int, seal: Callable[[list[T], int], None]) -> None:
        self._max_items = max_items
        self._max_bytes = max_bytes
        self._seal = seal
        self._items: list[T] = []
        self._bytes = 0
        self.size = 0  # the open batch's count

    def add(self, item: T, size: int, count: int = 1) -> bool:
        """Adds ``item``; returns whether it opened a batch that is still open."""
        if self.size and (self._bytes + size > self._max_bytes or self.size + count > self._max_items):
            self.flush()
        self._items.append(item)
        self._bytes += size
        self.size += count
        if self.size >= self._max_items or self._bytes >= self._max_bytes:
            self.flush()
            return False
        return len(self._items) == 1

    def flush(self) -> None:
        """Seals the open batch, if it has any item."""
        if self._items:
            items, size = self.take()
            self._seal(items, size)

    def take(self) -> tuple[list[T], int]:
        """Removes and returns the open batch's items and bytes without sealing them."""
        items, size = self._items, self._bytes
        self._items, self._bytes, self.size = [], 0, 0
        return items, size
