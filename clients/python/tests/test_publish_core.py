"""The publisher's parts that need no broker: backoff, the bound, batching,
options, and the core's bookkeeping of requests, answers and resends."""

from __future__ import annotations

from concurrent.futures import Future
from datetime import timedelta

import grpc
import pytest

from sluice_client import PublishResult, Reconnect, SendBatchError
from sluice_client._batcher import Batcher
from sluice_client._byte_budget import ByteBudget
from sluice_client._gen.sluice.v1 import broker_pb2, message_pb2
from sluice_client._pending import settle_all
from sluice_client._publish_core import PublishCore
from sluice_client.backoff import backoff_delay, is_retryable
from sluice_client.publisher_options import PublisherSettings, publisher_settings


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


class Item:
    def __init__(self, size: int) -> None:
        self.bytes = size
        self.waiting = False


def answer(request: broker_pb2.PublishStreamRequest, first_offset: int, duplicate: bool = False) -> broker_pb2.PublishStreamResponse:
    return broker_pb2.PublishStreamResponse(request_id=request.request_id, results=[
        message_pb2.PublishResult(partition=0, offset=first_offset + i, duplicate=duplicate)
        for i in range(len(request.messages))])


def core(clock: Clock | None = None, **options: object) -> PublishCore:
    return PublishCore("t", publisher_settings(options), clock or Clock())


def message(payload: bytes, c: PublishCore) -> message_pb2.PublishMessage:
    return message_pb2.PublishMessage(payload=payload, message_id=c.next_id())


def test_backoff_grows_from_the_initial_delay_to_the_cap_and_jitter_only_shortens_it() -> None:
    policy = Reconnect(initial_delay=0.1, max_delay=1.0, multiplier=2, jitter=0.5)
    assert [backoff_delay(n, policy, lambda: 0.0) for n in (1, 2, 3, 4, 5, 100_000)] == [0.1, 0.2, 0.4, 0.8, 1.0, 1.0]
    assert backoff_delay(2, policy, lambda: 0.999) == pytest.approx(0.1, rel=0.01)
    assert is_retryable(grpc.StatusCode.UNAVAILABLE) and not is_retryable(grpc.StatusCode.PERMISSION_DENIED)
    with pytest.raises(ValueError):
        Reconnect(jitter=2)


def test_the_byte_budget_grants_in_order_and_lets_an_oversized_item_through_alone() -> None:
    budget: ByteBudget[Item] = ByteBudget(10)
    a, b, c, huge = Item(6), Item(6), Item(1), Item(50)
    assert budget.acquire(a) and not budget.acquire(b)
    assert not budget.acquire(c), "nothing overtakes a waiting item"
    assert budget.release(6) == [b, c] and not b.waiting
    assert not budget.acquire(huge)
    assert budget.release(7) == [huge] and budget.used == 50


def test_the_batcher_seals_by_count_and_bytes_and_sends_an_oversized_item_alone() -> None:
    sealed: list[list[str]] = []
    batcher: Batcher[str] = Batcher(3, 100, lambda items, size: sealed.append(items))
    assert batcher.add("a", 10) is True
    batcher.add("b", 10)
    batcher.add("c", 10)
    batcher.add("d", 95)
    batcher.add("big", 500)
    assert sealed == [["a", "b", "c"], ["d"], ["big"]]


def test_options_are_checked() -> None:
    assert publisher_settings({"linger": timedelta(milliseconds=20)}).linger == 0.02
    assert publisher_settings({}) == PublisherSettings()
    with pytest.raises(TypeError, match="max_batch_mesages"):
        publisher_settings({"max_batch_mesages": 10})
    with pytest.raises(ValueError):
        publisher_settings({"max_unconfirmed_bytes": 0})
    with pytest.raises(ValueError):
        publisher_settings({"linger": -1})


def test_an_open_request_waits_for_the_linger_unless_flushed() -> None:
    clock = Clock()
    c = core(clock, linger=0.5)
    c.send(message(b"a", c), Future())
    assert c.next_request() == pytest.approx(0.5)
    clock.now += 0.2
    assert c.next_request() == pytest.approx(0.3)
    c.flush()
    request = c.next_request()
    assert isinstance(request, broker_pb2.PublishStreamRequest) and len(request.messages) == 1
    assert c.next_request() is None and not c.done_writing


def test_messages_get_unique_ids_with_one_random_prefix() -> None:
    c = core()
    ids = [c.next_id() for _ in range(1000)]
    assert len(set(ids)) == 1000 and len({i.rsplit("-", 1)[0] for i in ids}) == 1
    assert core(auto_message_id=False).next_id() == ""


def test_requests_in_flight_are_written_again_in_order_after_a_break() -> None:
    c = core(max_batch_messages=2)
    futures: list[Future[PublishResult]] = [Future() for _ in range(5)]
    for i, f in enumerate(futures):
        c.send(message(b"m%d" % i, c), f)
    c.flush()
    first = [c.next_request() for _ in range(3)]
    c.requeue()
    again = [c.next_request() for _ in range(3)]
    assert again == first, "the same requests, ids and message ids"
    for request, offset in zip(again, (0, 2, 4)):
        assert isinstance(request, broker_pb2.PublishStreamRequest)
        settle_all(c.answered(answer(request, offset, duplicate=True)))
    assert [f.result(0) for f in futures] == [PublishResult(0, i, True) for i in range(5)]
    assert c.idle


def test_a_refused_request_fails_its_part_of_a_batch_and_the_batch_reports_the_first_failure() -> None:
    c = core(max_batch_messages=2)
    batch: Future[list[PublishResult]] = Future()
    c.send_batch([message(b"m%d" % i, c) for i in range(5)], batch)
    requests = [c.next_request() for _ in range(3)]
    assert all(isinstance(r, broker_pb2.PublishStreamRequest) for r in requests), "a batch does not linger"
    r0, r1, r2 = requests
    assert isinstance(r0, broker_pb2.PublishStreamRequest) and isinstance(r1, broker_pb2.PublishStreamRequest)
    assert isinstance(r2, broker_pb2.PublishStreamRequest)
    assert c.answered(answer(r0, 0)) == []
    refused = broker_pb2.PublishStreamResponse(
        request_id=r1.request_id, error=broker_pb2.RequestError(code=3, message="partition 9 out of range"))
    assert c.answered(refused) == []
    settle_all(c.answered(answer(r2, 2)))
    with pytest.raises(SendBatchError) as raised:
        batch.result(0)
    assert (raised.value.code, raised.value.index, raised.value.details) == (
        grpc.StatusCode.INVALID_ARGUMENT, 2, "partition 9 out of range")
    assert raised.value.results == [PublishResult(0, 0), PublishResult(0, 1), None, None, PublishResult(0, 2)]
