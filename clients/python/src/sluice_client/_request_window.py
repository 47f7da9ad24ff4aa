"""A publisher's requests from sealing to their answer. Pure: no I/O."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from typing import Generic, TypeVar

from sluice_client._gen.sluice.v1 import broker_pb2

T = TypeVar("T")


@dataclass
class SealedRequest(Generic[T]):
    """A request, the entries it carries and their estimated bytes."""

    entries: list[T]
    bytes: int
    request: broker_pb2.PublishStreamRequest


class RequestWindow(Generic[T]):
    """Requests from sealing to their answer: queued until the stream takes
    them, in order, then in flight by request id. When the stream breaks,
    those in flight go back to the front of the queue, in the order they
    were written, to be written again on the next stream."""

    def __init__(self) -> None:
        self._queue: deque[SealedRequest[T]] = deque()
        self._in_flight: dict[int, SealedRequest[T]] = {}

    @property
    def queued(self) -> int:
        return len(self._queue)

    @property
    def in_flight(self) -> int:
        return len(self._in_flight)

    def push(self, sealed: SealedRequest[T]) -> None:
        self._queue.append(sealed)

    def write_next(self) -> SealedRequest[T] | None:
        """The next queued request, now counted in flight; ``None`` when none is queued."""
        if not self._queue:
            return None
        sealed = self._queue.popleft()
        self._in_flight[sealed.request.request_id] = sealed
        return sealed

    def answered(self, request_id: int) -> SealedRequest[T] | None:
        """The request in flight that ``request_id`` answers, no longer tracked."""
        return self._in_flight.pop(request_id, None)

    def requeue(self) -> None:
        """The stream broke: requests in flight go back to the front of the queue."""
        if self._in_flight:
            self._queue.extendleft(reversed(list(self._in_flight.values())))
            self._in_flight.clear()

    def take_all(self) -> list[SealedRequest[T]]:
        """Takes every request, those in flight first, in order."""
        everything = [*self._in_flight.values(), *self._queue]
        self._in_flight.clear()
        self._queue.clear()
        return everything
