"""What a publisher does, without threads, tasks or I/O: shared by the
blocking ``Publisher`` and the asyncio ``AsyncPublisher``, which call it
under a lock (or on their event loop) and do the waiting and the stream."""

from __future__ import annotations

import base64
import itertools
import logging
import os
import time
from typing import Callable, Sequence

import grpc

from sluice_client import _convert
from sluice_client._batcher import Batcher
from sluice_client._byte_budget import ByteBudget
from sluice_client._gen.sluice.v1 import broker_pb2, message_pb2
from sluice_client._pending import (
    BatchCall, BatchPart, Pending, SendCall, Settled, Sink,
    confirm_each, count_of, fail_each, messages_of, settled_through,
)
from sluice_client._request_window import RequestWindow, SealedRequest
from sluice_client.errors import SluiceError
from sluice_client.publisher_options import PublisherSettings
from sluice_client.values import PublishResult

_log = logging.getLogger("sluice_client.publisher")


class PublishCore:
    """One topic's publishing state: calls numbered in order, the bound on
    unconfirmed bytes (calls past it wait in order), the open request
    (sealed by count, bytes, or once ``linger`` has passed), the requests
    queued and in flight, and the answers matched to them by request id.

    Calls settle in the order they were made: requests are written, answered
    and, after a broken stream, written again in order. Each method that
    gives calls their outcome returns them; the caller settles their futures
    (``_pending.settle_all``) after letting go of its lock. ``wake`` is set
    when the writer has something new to look at; the caller clears it.
    """

    def __init__(self, topic: str, settings: PublisherSettings, clock: Callable[[], float] = time.monotonic) -> None:
        self.topic = topic
        self._linger = settings.linger
        self._clock = clock
        self._part_messages = settings.max_batch_messages
        self._part_bytes = min(settings.max_batch_bytes, settings.max_unconfirmed_bytes)
        self._budget: ByteBudget[Pending] = ByteBudget(settings.max_unconfirmed_bytes)
        self._batcher: Batcher[Pending] = Batcher(settings.max_batch_messages, settings.max_batch_bytes, self._seal)
        self._window: RequestWindow[Pending] = RequestWindow()
        self._auto_id = settings.auto_message_id
        # Automatic ids: 48 random bits, a dash, a counter in hex.
        self._id_prefix = base64.urlsafe_b64encode(os.urandom(6)).decode() + "-"
        self._id_counter = itertools.count()
        self._request_ids = itertools.count(1)
        self._last_seq = 0
        self.settled_through = 0
        self._flush_target = 0
        self._opened_at = 0.0
        self._soon = False  # the open request holds a send_batch part: no lingering
        self.closing = False
        self.wake = False

    # Calls.

    def next_id(self) -> str:
        """A message id for a message without one ("" when automatic ids are off)."""
        return f"{self._id_prefix}{next(self._id_counter):x}" if self._auto_id else ""

    def send(self, message: message_pb2.PublishMessage, future: Sink[PublishResult]) -> SendCall:
        """Takes one message; ``waiting`` is set on the result when the bound has no room for it yet."""
        self._last_seq += 1
        call = SendCall(self._last_seq, future, message, _convert.estimate_bytes(message))
        if self._budget.acquire(call):
            self._accept(call)
        return call

    def send_batch(
        self, messages: list[message_pb2.PublishMessage], future: Sink[list[PublishResult]]
    ) -> list[BatchPart]:
        """Takes a batch of at least one message, in parts of at most a
        request each; returns the parts (those the bound has no room for yet
        have ``waiting`` set)."""
        self._last_seq += 1
        batch = BatchCall(self._last_seq, future, messages)
        sizes = [_convert.estimate_bytes(m) for m in messages]
        parts: list[BatchPart] = []
        while (start := parts[-1].end if parts else 0) < len(sizes):
            part = BatchPart(batch, start, sizes, self._part_messages, self._part_bytes)
            parts.append(part)
            if self._budget.acquire(part):
                self._accept(part)
        return parts

    def flush(self) -> int:
        """Asks for every call made so far to go out without lingering;
        returns the number ``settled_through`` reaches once all settled."""
        self._flush_target = self._last_seq
        self.wake = True
        return self._last_seq

    def close(self) -> int:
        """Takes no more calls (the caller checks ``closing``); as ``flush``."""
        self.closing = True
        return self.flush()

    # The writer.

    def next_request(self) -> broker_pb2.PublishStreamRequest | float | None:
        """The next request to write, now counted in flight; else how many
        seconds until the open request is due, or ``None`` when there is
        nothing to write (see ``done_writing``)."""
        if not self._window.queued and self._batcher.size:
            due = self._opened_at + self._linger
            now = self._clock()
            if self._soon or self.closing or self._flush_target > self.settled_through or now >= due:
                self._batcher.flush()
            else:
                return due - now
        sealed = self._window.write_next()
        return sealed.request if sealed is not None else None

    @property
    def done_writing(self) -> bool:
        """Closing, and nothing left to write: the stream may be half-closed."""
        return self.closing and not self.has_work

    @property
    def has_work(self) -> bool:
        """Whether something waits to be written (or for room to be)."""
        return bool(self._window.queued or self._batcher.size or self._budget.waiting)

    @property
    def idle(self) -> bool:
        """Whether every call made has settled."""
        return self.settled_through >= self._last_seq

    # The stream.

    def answered(self, response: broker_pb2.PublishStreamResponse) -> list[Settled]:
        """Matches a response to its request; returns the calls that now have their outcome."""
        sealed = self._window.answered(response.request_id)
        if sealed is None:
            _log.warning("sluice response for an unknown request %d on %r", response.request_id, self.topic)
            return []
        out: list[Settled] = []
        sent = len(sealed.request.messages)
        if response.HasField("error"):
            code = _convert.status_code(response.error.code)
            fail_each(sealed.entries, SluiceError(code, response.error.message), out)
        elif len(response.results) != sent:
            fail_each(sealed.entries, SluiceError(
                grpc.StatusCode.INTERNAL, f"the broker returned {len(response.results)} results for {sent} messages"), out)
        else:
            confirm_each(sealed.entries, response.results, out)
        self._settled(sealed.entries)
        for entry in self._budget.release(sealed.bytes):
            self._accept(entry)
        return out

    def requeue(self) -> None:
        """The stream ended: requests in flight go back to be written again, first."""
        self._window.requeue()

    def fail_all(self, error: SluiceError) -> list[Settled]:
        """Gives every pending call ``error``, in call order; returns those calls."""
        entries: list[Pending] = [e for sealed in self._window.take_all() for e in sealed.entries]
        entries += self._batcher.take()[0]
        entries += self._budget.take_waiting()
        self._budget.used = 0
        out: list[Settled] = []
        fail_each(entries, error, out)
        self._settled(entries)
        return out

    def _settled(self, entries: Sequence[Pending]) -> None:
        if entries:
            self.settled_through = max(self.settled_through, settled_through(entries[-1]))

    def _accept(self, entry: Pending) -> None:
        if self._batcher.add(entry, entry.bytes, count_of(entry)):
            self._opened_at = self._clock()
            self.wake = True
        if isinstance(entry, BatchPart) and self._batcher.size:
            # A send_batch caller handed over all it had: no point waiting.
            self._soon = True
            self.wake = True

    def _seal(self, entries: list[Pending], size: int) -> None:
        self._soon = False
        request = broker_pb2.PublishStreamRequest(
            request_id=next(self._request_ids), topic=self.topic, messages=messages_of(entries))
        self._window.push(SealedRequest(entries, size, request))
        self.wake = True


def closed_error(topic: str) -> SluiceError:
    """What a call to a closed publisher raises."""
    return SluiceError(grpc.StatusCode.FAILED_PRECONDITION, f"the publisher of {topic!r} is closed")


def timed_out_error(topic: str, timeout: float | None) -> SluiceError:
    """What a message gets when ``close(timeout)`` gives up waiting for its confirmation."""
    return SluiceError(
        grpc.StatusCode.DEADLINE_EXCEEDED,
        f"close(timeout={timeout}) of the publisher of {topic!r} stopped waiting for the broker's "
        "confirmation: the message may or may not be stored (give messages your own message_id "
        "to publish them again safely)",
    )
