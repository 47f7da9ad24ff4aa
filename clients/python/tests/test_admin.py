from __future__ import annotations

import uuid

import grpc
import pytest

from sluice_client import Client, Outgoing, SluiceError


def fnv1a(text: str) -> int:
    h = 2166136261
    for byte in text.encode():
        h = ((h ^ byte) * 16777619) & 0xFFFFFFFF
    return h


@pytest.mark.parametrize("topic", [3], indirect=True)
def test_get_topic_describes_the_partitions(client: Client, topic: str) -> None:
    described = client.get_topic(topic)
    assert described.name == topic and described.partition_count == 3
    assert [p.partition for p in described.partitions] == [0, 1, 2]
    assert topic in [t.name for t in client.list_topics()]


def test_topic_errors_carry_the_documented_codes(client: Client, topic: str) -> None:
    with pytest.raises(SluiceError) as exists:
        client.create_topic(topic)
    assert exists.value.code == grpc.StatusCode.ALREADY_EXISTS
    with pytest.raises(SluiceError) as bad:
        client.create_topic("bad name!")
    assert bad.value.code == grpc.StatusCode.INVALID_ARGUMENT
    client.delete_topic(topic)
    with pytest.raises(SluiceError) as missing:
        client.get_topic(topic)
    assert missing.value.code == grpc.StatusCode.NOT_FOUND
    assert isinstance(missing.value.__cause__, grpc.RpcError)


def test_list_topics_pages_through_every_topic(client: Client) -> None:
    prefix = f"page-{uuid.uuid4().hex[:8]}"
    names = [f"{prefix}-{i}" for i in range(5)]
    for name in names:
        client.create_topic(name)
    listed = [t.name for t in client.list_topics(page_size=2) if t.name.startswith(prefix)]
    assert listed == names


def test_groups_are_created_described_listed_and_deleted(client: Client, topic: str) -> None:
    created = client.create_group(topic, "g", start="latest", ack_deadline=5)
    assert created.settings.ack_deadline.seconds == 5
    assert client.get_group(topic, "g").settings.ack_deadline.seconds == 5
    assert [g.name for g in client.list_groups(topic)] == ["g"]
    client.delete_group(topic, "g")
    with pytest.raises(SluiceError) as missing:
        client.get_group(topic, "g")
    assert missing.value.code == grpc.StatusCode.NOT_FOUND


@pytest.mark.parametrize("topic", [4], indirect=True)
def test_key_and_explicit_partition_pick_the_partition(client: Client, topic: str) -> None:
    positions = client.publish(topic, [
        Outgoing(b"a", partition=3),
        Outgoing(b"b", key="user-1"),
        Outgoing(b"c", key="user-1"),
    ])
    assert positions[0].partition == 3
    assert positions[1].partition == positions[2].partition == fnv1a("user-1") % 4


def test_publishing_to_a_missing_topic_raises_not_found(client: Client) -> None:
    with pytest.raises(SluiceError) as raised:
        client.publish("no-such-topic", [b"x"])
    assert raised.value.code == grpc.StatusCode.NOT_FOUND
