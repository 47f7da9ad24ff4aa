"""The blocking Subscription reconnects after a broken stream."""

from __future__ import annotations

import threading
import time

import grpc
import pytest

from broker_process import BrokerProcess
from sluice_client import Client, Reconnect, SluiceError, Subscription
from support import OnLog, wait_for
from tcp_proxy import TcpProxy

FAST = Reconnect(initial_delay=0.02, max_delay=0.2)


def payloads(start: int, stop: int) -> list[bytes]:
    return [f"m{i}".encode() for i in range(start, stop)]


def committed(client: Client, topic: str, group: str = "g") -> int:
    return client.get_group(topic, group).partitions[0].committed_offset


def ack_until(sub: Subscription, acked: set[bytes], count: int) -> None:
    """Receives and acks until ``count`` distinct payloads were acked."""
    while len(acked) < count:
        message = sub.receive(timeout=30)
        assert message is not None
        message.ack()
        acked.add(message.payload)


def ack_until_committed(sub: Subscription, acked: set[bytes], client: Client, topic: str, total: int) -> None:
    """Receives and acks until the group has committed all ``total``
    messages: an ack made as the stream broke may be lost, and its message
    then comes again."""
    deadline = time.monotonic() + 30
    while committed(client, topic) < total:
        assert time.monotonic() < deadline, f"committed {committed(client, topic)} of {total}"
        try:
            message = sub.receive(timeout=0.2)
        except TimeoutError:
            continue
        assert message is not None
        message.ack()
        acked.add(message.payload)



def test_consumption_goes_on_across_a_cut_connection(client: Client, topic: str, proxy: TcpProxy) -> None:
    client.publish(topic, payloads(0, 20))
    acked: set[bytes] = set()
    with Client(proxy.address) as via, via.subscribe(topic, "g", max_in_flight=5, reconnect=FAST) as sub:
        first_consumer = sub.consumer_id
        ack_until(sub, acked, 10)
        proxy.cut()
        client.publish(topic, payloads(20, 30))
        ack_until_committed(sub, acked, client, topic, 30)
        assert sub.consumer_id != first_consumer
        assert not sub.closed
    assert acked == set(payloads(0, 30))


def test_consumption_goes_on_across_a_broker_restart(own_broker: BrokerProcess) -> None:
    with Client(own_broker.address) as admin:
        admin.create_topic("restart")
        admin.publish("restart", payloads(0, 20))
    acked: set[bytes] = set()
    with Client(own_broker.address) as client, client.subscribe(
        "restart", "g", max_in_flight=5, reconnect=FAST
    ) as sub:
        ack_until(sub, acked, 10)
        own_broker.restart()
        # A channel of its own: grpc shares a subchannel between a process's
        # channels, and the subscription's may still be in its connect backoff.
        with Client(own_broker.address, options=[("grpc.use_local_subchannel_pool", 1)]) as after:
            after.publish("restart", payloads(20, 30))
            ack_until_committed(sub, acked, after, "restart", 30)
    assert acked == set(payloads(0, 30))


def test_deleting_the_group_ends_a_reconnecting_subscription_with_aborted(client: Client, topic: str) -> None:
    with client.subscribe(topic, "g", reconnect=FAST) as sub:
        client.delete_group(topic, "g", force=True)
        with pytest.raises(SluiceError) as ended:
            sub.receive(timeout=10)
        assert ended.value.code == grpc.StatusCode.ABORTED
        assert sub.closed
    with pytest.raises(SluiceError) as missing:  # no reopen made the group again
        client.get_group(topic, "g")
    assert missing.value.code == grpc.StatusCode.NOT_FOUND


def test_spent_max_attempts_end_the_subscription_with_unavailable(topic: str, proxy: TcpProxy) -> None:
    policy = Reconnect(initial_delay=0.01, max_delay=0.05, max_attempts=2)
    with Client(proxy.address) as via, via.subscribe(topic, "g", reconnect=policy) as sub:
        proxy.close()  # refuses connections from now on
        with pytest.raises(SluiceError) as ended:
            sub.receive(timeout=30)
        assert ended.value.code == grpc.StatusCode.UNAVAILABLE
        assert "gave up after 2 failed attempts" in ended.value.details
        with pytest.raises(SluiceError):  # every later call sees the end too
            sub.receive(timeout=1)


def test_close_during_a_backoff_returns_at_once_and_leaves_no_thread(topic: str, proxy: TcpProxy) -> None:
    before = set(threading.enumerate())
    backing_off = threading.Event()
    slow = Reconnect(initial_delay=60, max_delay=60, jitter=0)
    with Client(proxy.address) as via, OnLog("sluice_client.subscription", "broke", backing_off.set):
        sub = via.subscribe(topic, "g", reconnect=slow)
        proxy.close()
        assert backing_off.wait(10)
        started = time.monotonic()
        sub.close()
        assert time.monotonic() - started < 1
        assert sub.closed and sub.receive(timeout=1) is None
    left = [t for t in threading.enumerate() if t not in before and t.name == "sluice-subscription"]
    assert left == []


def test_an_ack_of_a_message_from_a_broken_stream_is_sent_on_the_new_one(
    client: Client, topic: str, proxy: TcpProxy
) -> None:
    client.publish(topic, payloads(0, 1))
    reconnected = threading.Event()
    with Client(proxy.address) as via, OnLog("sluice_client.subscription", "reconnected", reconnected.set):
        with via.subscribe(topic, "g", reconnect=FAST) as sub:
            old = sub.receive(timeout=10)
            assert old is not None
            proxy.cut()
            assert reconnected.wait(30)
            old.ack()
            wait_for("the old stream's message committed", lambda: committed(client, topic) == 1)
