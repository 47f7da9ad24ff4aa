from __future__ import annotations

import datetime as dt

import grpc
import pytest

from sluice_client import Client, Outgoing, PublishResult, SluiceError
from support import wait_for


def committed(client: Client, topic: str, group: str, partition: int = 0) -> int:
    return client.get_group(topic, group).partitions[partition].committed_offset


def test_published_messages_are_delivered_in_order_with_all_their_fields(client: Client, topic: str) -> None:
    positions = client.publish(topic, [
        Outgoing(b"one", key="k1", headers={"h": "v"}, message_id="id-1"),
        "two",
    ])
    assert positions == [PublishResult(0, 0, False), PublishResult(0, 1, False)]

    with client.subscribe(topic, "g", consumer_name="py-test") as sub:
        assert sub.partitions == 1 and sub.consumer_id
        first = sub.receive(timeout=10)
        assert first is not None
        assert (first.topic, first.partition, first.offset) == (topic, 0, 0)
        assert (first.key, first.payload, dict(first.headers), first.message_id) == ("k1", b"one", {"h": "v"}, "id-1")
        assert first.attempt == 1
        assert first.publish_time is not None and first.publish_time.tzinfo is not None
        assert first.deadline is not None and first.deadline > dt.datetime.now(dt.timezone.utc)
        second = sub.receive(timeout=10)
        assert second is not None and (second.offset, second.payload) == (1, b"two")


def test_a_lone_payload_is_published_as_one_message(client: Client, topic: str) -> None:
    assert client.publish(topic, b"just one") == [PublishResult(0, 0)]
    assert client.publish(topic, "and another") == [PublishResult(0, 1)]


def test_republishing_a_message_id_reports_the_original_as_a_duplicate(client: Client, topic: str) -> None:
    first = client.publish(topic, [Outgoing(b"once", message_id="id-1"), Outgoing(b"other", message_id="id-2")])
    again = client.publish(topic, [Outgoing(b"once", message_id="id-1")])
    assert first == [PublishResult(0, 0, False), PublishResult(0, 1, False)]
    assert again == [PublishResult(0, 0, True)]
    assert client.get_topic(topic).partitions[0].end_offset == 2


def test_acks_move_the_groups_committed_offset(client: Client, topic: str) -> None:
    client.publish(topic, [b"a", b"b", b"c"])
    with client.subscribe(topic, "g") as sub:
        for _ in range(3):
            message = sub.receive(timeout=10)
            assert message is not None
            message.ack()
        wait_for("committed offset 3", lambda: committed(client, topic, "g") == 3)


def test_a_nacked_message_is_redelivered_with_the_next_attempt(client: Client, topic: str) -> None:
    client.publish(topic, [b"retry me"])
    with client.subscribe(topic, "g") as sub:
        first = sub.receive(timeout=10)
        assert first is not None
        first.nack()
        again = sub.receive(timeout=10)
        assert again is not None
        assert (again.offset, again.attempt) == (first.offset, 2)
        again.ack()
        wait_for("committed offset 1", lambda: committed(client, topic, "g") == 1)


def test_unacked_messages_go_back_to_the_group_when_a_subscription_closes(client: Client, topic: str) -> None:
    client.publish(topic, [b"a", b"b"])
    with client.subscribe(topic, "g", max_in_flight=2) as first:
        assert first.receive(timeout=10) is not None
        assert first.receive(timeout=10) is not None
    with client.subscribe(topic, "g") as second:
        redelivered = [second.receive(timeout=10) for _ in range(2)]
        # Redelivery order is not part of the contract; the set and attempts are.
        assert sorted((m.offset, m.attempt) for m in redelivered if m) == [(0, 2), (1, 2)]


def test_a_message_is_settled_once_and_not_after_close(client: Client, topic: str) -> None:
    client.publish(topic, [b"a", b"b"])
    sub = client.subscribe(topic, "g", max_in_flight=2)
    acked, pending = sub.receive(timeout=10), sub.receive(timeout=10)
    assert acked is not None and pending is not None
    acked.ack()
    acked.ack()  # does nothing
    assert acked.settled
    sub.close()
    with pytest.raises(SluiceError) as raised:
        pending.ack()
    assert raised.value.code == grpc.StatusCode.FAILED_PRECONDITION
    assert sub.receive(timeout=10) is None
    assert client.get_group(topic, "g").ignored_acks == 0


def test_iteration_ends_when_the_subscription_is_closed(client: Client, topic: str) -> None:
    client.publish(topic, [b"a"])
    sub = client.subscribe(topic, "g")
    seen = []
    for message in sub:
        seen.append(message.payload)
        message.ack()
        sub.close()
    assert seen == [b"a"]


def test_receive_times_out_when_nothing_arrives(client: Client, topic: str) -> None:
    with client.subscribe(topic, "g") as sub:
        with pytest.raises(TimeoutError):
            sub.receive(timeout=0.2)


def test_subscribing_to_a_missing_topic_raises_not_found(client: Client) -> None:
    with pytest.raises(SluiceError) as raised:
        client.subscribe("no-such-topic", "g")
    assert raised.value.code == grpc.StatusCode.NOT_FOUND


def test_deleting_the_group_ends_its_subscription_with_aborted(client: Client, topic: str) -> None:
    with client.subscribe(topic, "g") as sub:
        with pytest.raises(SluiceError) as refused:
            client.delete_group(topic, "g")
        assert refused.value.code == grpc.StatusCode.FAILED_PRECONDITION
        client.delete_group(topic, "g", force=True)
        with pytest.raises(SluiceError) as ended:
            sub.receive(timeout=10)
        assert ended.value.code == grpc.StatusCode.ABORTED


def test_a_group_started_at_latest_sees_only_later_messages(client: Client, topic: str) -> None:
    client.publish(topic, [b"old"])
    with client.subscribe(topic, "g", start="latest") as sub:
        client.publish(topic, [b"new"])
        message = sub.receive(timeout=10)
        assert message is not None and message.payload == b"new"
