from __future__ import annotations

import threading
from concurrent.futures import Future

import grpc
import pytest

from broker_process import BrokerProcess
from sluice_client import Client, Outgoing, PublishResult, Reconnect, SendBatchError, SluiceError
from support import end_offset, wait_for
from tcp_proxy import TcpProxy, unused_address

FAST_RECONNECT = Reconnect(initial_delay=0.01, max_delay=0.1)


def offsets(results: list[PublishResult]) -> list[int]:
    return [r.offset for r in results]


def test_sends_from_many_threads_keep_each_threads_order_at_distinct_offsets(client: Client, topic: str) -> None:
    threads, per_thread = 8, 500
    start = threading.Barrier(threads)
    futures: dict[int, list[Future[PublishResult]]] = {}

    def sender(t: int) -> None:
        start.wait()
        futures[t] = [publisher.send(f"{t}-{i}") for i in range(per_thread)]

    with client.publisher(topic) as publisher:
        workers = [threading.Thread(target=sender, args=(t,)) for t in range(threads)]
        for w in workers:
            w.start()
        for w in workers:
            w.join()
    payload_at = {}
    for t, fs in futures.items():
        got = [f.result(0) for f in fs]
        assert offsets(got) == sorted(offsets(got)), f"thread {t}'s sends were stored out of order"
        payload_at.update({r.offset: f"{t}-{i}".encode() for i, r in enumerate(got)})
    assert sorted(payload_at) == list(range(threads * per_thread))
    assert end_offset(client, topic) == threads * per_thread

    with client.subscribe(topic, "check", max_in_flight=threads * per_thread) as sub:
        for _ in range(threads * per_thread):
            message = sub.receive(timeout=10)
            assert message is not None and message.payload == payload_at[message.offset]
            assert message.message_id, "every message gets an automatic id"


def test_a_message_keeps_its_own_id_and_automatic_ids_can_be_turned_off(client: Client, topic: str) -> None:
    with client.publisher(topic) as own:
        own.send(Outgoing(b"a", message_id="mine")).result(10)
    with client.publisher(topic, auto_message_id=False) as plain:
        plain.send(b"b").result(10)
    with client.subscribe(topic, "check") as sub:
        ids = [m.message_id for m in (sub.receive(timeout=10), sub.receive(timeout=10)) if m]
    assert ids == ["mine", ""]


def test_a_send_batch_spans_several_requests_in_order_with_the_sends_around_it(client: Client, topic: str) -> None:
    with client.publisher(topic, max_batch_messages=10) as publisher:
        before = publisher.send(b"before")
        batch = publisher.send_batch([f"m{i}" for i in range(95)])
        after = publisher.send(b"after")
        assert publisher.send_batch([]).result(0) == []
        assert offsets(batch.result(10)) == list(range(1, 96))
        assert (before.result(10).offset, after.result(10).offset) == (0, 96)


def test_a_refused_request_fails_only_its_messages_and_the_error_says_which(client: Client, topic: str) -> None:
    messages = [Outgoing(f"m{i}", partition=7 if i == 15 else None) for i in range(30)]
    with client.publisher(topic, max_batch_messages=10) as publisher:
        future = publisher.send_batch(messages)
        with pytest.raises(SendBatchError) as raised:
            future.result(10)
    error = raised.value
    assert error.code == grpc.StatusCode.INVALID_ARGUMENT
    assert "partition" in error.details
    assert error.index == 10
    assert error.results[10:20] == [None] * 10
    assert offsets(error.results[:10]) == list(range(10))  # type: ignore[arg-type]
    assert offsets(error.results[20:]) == list(range(10, 20))  # type: ignore[arg-type]
    assert end_offset(client, topic) == 20


def test_publishing_to_a_missing_topic_fails_with_not_found(client: Client) -> None:
    with client.publisher("no-such-topic") as publisher:
        single = publisher.send(b"x")
        batch = publisher.send_batch([b"a", b"b"])
        with pytest.raises(SluiceError) as refused:
            single.result(10)
        with pytest.raises(SendBatchError) as refused_batch:
            batch.result(10)
    assert refused.value.code == grpc.StatusCode.NOT_FOUND
    assert "no-such-topic" in refused.value.details
    assert (refused_batch.value.code, refused_batch.value.index) == (grpc.StatusCode.NOT_FOUND, 0)
    assert refused_batch.value.results == [None, None]


def test_a_malformed_message_is_refused_before_anything_is_sent(client: Client, topic: str) -> None:
    with client.publisher(topic) as publisher:
        with pytest.raises(TypeError, match="message 2 of the batch"):
            publisher.send_batch([b"a", "b", 3])  # type: ignore[list-item]
        with pytest.raises(TypeError):
            publisher.send(3)  # type: ignore[arg-type]
        with pytest.raises(TypeError, match="iterable"):
            publisher.send_batch(b"one")
    assert end_offset(client, topic) == 0


def test_close_waits_for_every_confirmation(client: Client, topic: str) -> None:
    publisher = client.publisher(topic, linger=0.05)
    sends = [publisher.send(b"x" * 100) for _ in range(3000)]
    batch = publisher.send_batch([b"y"] * 2000)
    publisher.close()
    assert all(f.done() for f in sends) and batch.done()
    assert offsets([f.result(0) for f in sends]) == list(range(3000))
    assert offsets(batch.result(0)) == list(range(3000, 5000))


def test_flush_waits_for_the_sends_made_before_it(client: Client, topic: str) -> None:
    with client.publisher(topic, linger=60) as publisher:
        sends = [publisher.send(b"x") for _ in range(3)]
        publisher.flush(timeout=10)
        assert all(f.done() for f in sends)


def test_sending_after_close_raises_failed_precondition(client: Client, topic: str) -> None:
    publisher = client.publisher(topic)
    publisher.close()
    publisher.close()  # does nothing
    assert publisher.closed
    with pytest.raises(SluiceError) as raised:
        publisher.send(b"late")
    assert raised.value.code == grpc.StatusCode.FAILED_PRECONDITION
    with pytest.raises(SendBatchError) as raised_batch:
        publisher.send_batch([b"late", b"later"])
    assert (raised_batch.value.code, raised_batch.value.results) == (grpc.StatusCode.FAILED_PRECONDITION, [None, None])


def test_a_send_blocks_while_unconfirmed_bytes_fill_the_bound(client: Client, topic: str, proxy: TcpProxy) -> None:
    with Client(proxy.address) as proxied, proxied.publisher(topic, max_unconfirmed_bytes=1) as publisher:
        publisher.send(b"warm-up").result(10)
        proxy.hold_responses()
        try:
            first = publisher.send(b"first")  # alone over the bound: nothing else is unconfirmed
            wait_for("the first stored", lambda: end_offset(client, topic) == 2)
            second: list[Future[PublishResult]] = []
            blocked = threading.Thread(target=lambda: second.append(publisher.send(b"second")))
            blocked.start()
            # Nothing announces that a send is still blocked: give it time to go wrong.
            blocked.join(0.3)
            assert blocked.is_alive() and end_offset(client, topic) == 2
        finally:
            proxy.release_responses()
        blocked.join(10)
        assert first.result(10).offset == 1 and second[0].result(10).offset == 2


def test_a_cut_connection_is_resent_with_the_same_ids_and_deduplicated(
    client: Client, topic: str, proxy: TcpProxy
) -> None:
    with Client(proxy.address) as proxied, proxied.publisher(topic, reconnect=FAST_RECONNECT) as publisher:
        assert publisher.send(b"confirmed").result(10).offset == 0
        proxy.hold_responses()
        sends = [publisher.send(f"s{i}") for i in range(3)]
        batch = publisher.send_batch([f"b{i}" for i in range(3)])
        wait_for("all stored, none confirmed", lambda: end_offset(client, topic) == 7)
        assert not any(f.done() for f in sends) and not batch.done()
        proxy.cut()
        resent = [f.result(10) for f in sends] + batch.result(10)
    assert resent == [PublishResult(0, offset, True) for offset in range(1, 7)]
    assert end_offset(client, topic) == 7


def test_sends_fail_with_the_last_error_once_reconnecting_gives_up(topic: str) -> None:
    with Client(unused_address()) as nowhere:
        policy = Reconnect(initial_delay=0.01, max_delay=0.02, max_attempts=2)
        with nowhere.publisher(topic, reconnect=policy) as publisher:
            with pytest.raises(SluiceError) as raised:
                publisher.send(b"lost").result(30)
    assert raised.value.code == grpc.StatusCode.UNAVAILABLE
    assert "gave up after 2 failed attempts" in raised.value.details


def test_close_with_a_timeout_gives_up_on_unconfirmed_sends(client: Client, topic: str, proxy: TcpProxy) -> None:
    with Client(proxy.address) as proxied:
        publisher = proxied.publisher(topic)
        publisher.send(b"warm-up").result(10)
        proxy.hold_responses()
        pending = publisher.send(b"unconfirmed")
        with pytest.raises(TimeoutError):
            publisher.close(timeout=0.2)
        with pytest.raises(SluiceError) as raised:
            pending.result(0)
        assert raised.value.code == grpc.StatusCode.DEADLINE_EXCEEDED


def test_no_thread_is_left_running_after_close(broker: BrokerProcess, topic: str) -> None:
    before = set(threading.enumerate())
    with Client(broker.address) as client:
        publisher = client.publisher(topic)
        publisher.send_batch([b"a"] * 100)
        publisher.send(b"b").result(10)
        publisher.close()
        started = [t for t in threading.enumerate() if t not in before]
        for thread in started:
            thread.join(10)
        assert [t.name for t in started if t.is_alive()] == []


def test_closing_the_client_closes_its_publishers(broker: BrokerProcess, topic: str) -> None:
    client = Client(broker.address)
    publisher = client.publisher(topic)
    sent = publisher.send(b"x")
    client.close()
    assert publisher.closed and sent.result(0).offset == 0
