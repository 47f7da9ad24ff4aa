from __future__ import annotations

import queue

from sluice_client._coalesce import MAX_ACK_POSITIONS, coalesce, take_queued
from sluice_client._gen.sluice.v1 import broker_pb2, message_pb2

Request = broker_pb2.SubscribeRequest


def ack(*offsets: int, ack_id: int = 0) -> broker_pb2.SubscribeRequest:
    return Request(ack=Request.Ack(positions=[message_pb2.Position(offset=o) for o in offsets], ack_id=ack_id))


def nack(offset: int) -> broker_pb2.SubscribeRequest:
    return Request(nack=Request.Nack(positions=[message_pb2.Position(offset=offset)]))


def summary(requests: list[broker_pb2.SubscribeRequest]) -> list[tuple[str, list[int]]]:
    return [(r.WhichOneof("request") or "", [p.offset for p in getattr(r, r.WhichOneof("request") or "ack").positions])
            for r in requests]


def test_consecutive_acks_become_one_request_and_other_verbs_keep_their_place() -> None:
    requests = [ack(1), ack(2, 3), nack(4), ack(5), ack(6), ack(7, ack_id=9), ack(8)]
    merged = coalesce(requests)
    assert summary(merged) == [("ack", [1, 2, 3]), ("nack", [4]), ("ack", [5, 6]), ("ack", [7]), ("ack", [8])]
    assert merged[3].ack.ack_id == 9


def test_the_requests_given_are_not_changed() -> None:
    first, second = ack(1), ack(2)
    coalesce([first, second])
    assert summary([first, second]) == [("ack", [1]), ("ack", [2])]


def test_a_merged_ack_holds_at_most_the_cap_of_positions() -> None:
    merged = coalesce([ack(i) for i in range(MAX_ACK_POSITIONS + 10)])
    assert [len(r.ack.positions) for r in merged] == [MAX_ACK_POSITIONS, 10]


def test_take_queued_merges_what_waits_behind_the_first_and_stops_at_the_end_marker() -> None:
    waiting: queue.SimpleQueue[broker_pb2.SubscribeRequest | None] = queue.SimpleQueue()
    for item in (ack(2), nack(3), None, ack(9)):
        waiting.put(item)
    batch, more = take_queued(ack(1), waiting.get_nowait, queue.Empty)
    assert (summary(batch), more) == ([("ack", [1, 2]), ("nack", [3])], False)
    batch, more = take_queued(ack(4), waiting.get_nowait, queue.Empty)
    assert (summary(batch), more) == ([("ack", [4, 9])], True)
