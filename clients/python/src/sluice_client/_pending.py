"""What a publisher carries from a ``send`` or ``send_batch`` call to its
outcome: the calls, with the future each settles, and the parts of a batch."""

from __future__ import annotations

from typing import Generic, Iterable, Protocol, Sequence, TypeVar, Union

from sluice_client._gen.sluice.v1 import message_pb2
from sluice_client.errors import SendBatchError, SluiceError
from sluice_client.values import PublishResult

T = TypeVar("T")
T_contra = TypeVar("T_contra", contravariant=True)


class Sink(Protocol[T_contra]):
    """What both ``concurrent.futures.Future`` and ``asyncio.Future`` offer."""

    def set_result(self, result: T_contra, /) -> None: ...

    def set_exception(self, exception: BaseException, /) -> None: ...

    def done(self) -> bool: ...


class _Call(Generic[T]):
    """A call until its future is settled (outside the publisher's lock, so
    that callbacks on the future may call the publisher)."""

    __slots__ = ("seq", "future")

    def __init__(self, seq: int, future: Sink[T]) -> None:
        self.seq = seq
        self.future = future

    def _settle(self, result: T | None, error: SluiceError | None) -> None:
        # An asyncio future may have been cancelled by its awaiting task.
        if self.future.done():
            return
        if error is not None:
            self.future.set_exception(error)
        else:
            self.future.set_result(result)  # type: ignore[arg-type]


class SendCall(_Call[PublishResult]):
    """One ``send``: its wire message and, once answered, its outcome."""

    __slots__ = ("message", "bytes", "waiting", "result", "error")

    def __init__(self, seq: int, future: Sink[PublishResult], message: message_pb2.PublishMessage, size: int) -> None:
        super().__init__(seq, future)
        self.message = message
        self.bytes = size
        self.waiting = False  # for room in the bound on unconfirmed bytes
        self.result: PublishResult | None = None
        self.error: SluiceError | None = None

    def settle(self) -> None:
        self._settle(self.result, self.error)


class BatchCall(_Call[list[PublishResult]]):
    """One ``send_batch``: its wire messages and, as requests are answered,
    their results. It is done once every message has an outcome."""

    __slots__ = ("messages", "results", "remaining", "failure", "failed_at")

    def __init__(self, seq: int, future: Sink[list[PublishResult]], messages: list[message_pb2.PublishMessage]) -> None:
        super().__init__(seq, future)
        self.messages = messages
        self.results: list[PublishResult | None] = [None] * len(messages)
        self.remaining = len(messages)
        self.failure: SluiceError | None = None
        self.failed_at = 0

    @property
    def done(self) -> bool:
        return self.remaining == 0

    def confirm(self, start: int, end: int, results: Sequence[message_pb2.PublishResult], first: int) -> None:
        """Messages ``start`` to ``end`` (exclusive) were stored, as ``results[first:]`` tell."""
        for i, r in zip(range(start, end), results[first:first + end - start]):
            self.results[i] = PublishResult(r.partition, r.offset, r.duplicate)
        self.remaining -= end - start

    def fail(self, start: int, end: int, error: SluiceError) -> None:
        """Messages ``start`` to ``end`` (exclusive) failed with ``error``."""
        if self.failure is None or start < self.failed_at:
            self.failure = error
            self.failed_at = start
        self.remaining -= end - start

    def settle(self) -> None:
        failure = self.failure
        if failure is None:
            self._settle(self.results, None)  # type: ignore[arg-type]
            return
        error = SendBatchError(failure.code, failure.details, self.failed_at, self.results)
        error.__cause__ = failure
        self._settle(None, error)


class BatchPart:
    """Consecutive messages of one ``BatchCall`` that go through the bound on
    unconfirmed bytes and into a request together, as one ``send``'s message
    does: at most ``max_messages`` and ``max_bytes``, unless it is one
    message larger than that by itself."""

    __slots__ = ("batch", "start", "end", "bytes", "waiting")

    def __init__(self, batch: BatchCall, start: int, sizes: Sequence[int], max_messages: int, max_bytes: int) -> None:
        end, size = start, 0
        last = min(len(sizes), start + max_messages)
        while end < last and (end == start or size + sizes[end] <= max_bytes):
            size += sizes[end]
            end += 1
        self.batch = batch
        self.start = start
        self.end = end
        self.bytes = size
        self.waiting = False

    @property
    def count(self) -> int:
        return self.end - self.start


Pending = Union[SendCall, BatchPart]
"""What the bound, the open request and the requests carry, in call order."""

Settled = Union[SendCall, BatchCall]
"""A call with its outcome, to be settled outside the publisher's lock."""


def count_of(entry: Pending) -> int:
    return entry.count if isinstance(entry, BatchPart) else 1


def messages_of(entries: Iterable[Pending]) -> list[message_pb2.PublishMessage]:
    """The messages of ``entries``, in order, as one request carries them."""
    messages: list[message_pb2.PublishMessage] = []
    for e in entries:
        if isinstance(e, BatchPart):
            messages.extend(e.batch.messages[e.start:e.end])
        else:
            messages.append(e.message)
    return messages


def confirm_each(entries: Iterable[Pending], results: Sequence[message_pb2.PublishResult], out: list[Settled]) -> None:
    """Records ``results`` (one per message, in order) on ``entries``;
    appends the calls that now have their outcome to ``out``."""
    n = 0
    for e in entries:
        if isinstance(e, BatchPart):
            e.batch.confirm(e.start, e.end, results, n)
            n += e.count
            if e.batch.done:
                out.append(e.batch)
        else:
            r = results[n]
            n += 1
            e.result = PublishResult(r.partition, r.offset, r.duplicate)
            out.append(e)


def fail_each(entries: Iterable[Pending], error: SluiceError, out: list[Settled]) -> None:
    """Records ``error`` on ``entries``; appends the calls that now have
    their outcome to ``out``."""
    for e in entries:
        e.waiting = False
        if isinstance(e, BatchPart):
            e.batch.fail(e.start, e.end, error)
            if e.batch.done:
                out.append(e.batch)
        else:
            e.error = error
            out.append(e)


def settled_through(entry: Pending) -> int:
    """The call number through which every call has its outcome once
    ``entry``, and all before it, has: a part that is not its batch's last
    leaves the batch unsettled."""
    if isinstance(entry, SendCall):
        return entry.seq
    return entry.batch.seq if entry.batch.done else entry.batch.seq - 1


def settle_all(calls: Iterable[Settled]) -> None:
    """Settles the futures of ``calls``."""
    for call in calls:
        call.settle()
