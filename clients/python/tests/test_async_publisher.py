from __future__ import annotations

import asyncio
from typing import Any, Awaitable, Callable, Coroutine

import grpc
import pytest

from broker_process import BrokerProcess
from sluice_client import Outgoing, PublishResult, Reconnect, SendBatchError, SluiceError
from sluice_client.aio import AsyncClient
from support import wait_for_async
from tcp_proxy import TcpProxy

FAST_RECONNECT = Reconnect(initial_delay=0.01, max_delay=0.1)


def run(scenario: Callable[[AsyncClient], Coroutine[Any, Any, None]], address: str) -> None:
    async def main() -> None:
        async with AsyncClient(address) as client:
            await scenario(client)
    asyncio.run(asyncio.wait_for(main(), 60))


def stored(client: AsyncClient, topic: str, count: int) -> Callable[[], Awaitable[bool]]:
    async def check() -> bool:
        return (await client.get_topic(topic)).partitions[0].end_offset == count
    return check


def offsets(results: list[PublishResult]) -> list[int]:
    return [r.offset for r in results]


def test_sends_from_many_tasks_keep_each_tasks_order_at_distinct_offsets(broker: BrokerProcess, topic: str) -> None:
    tasks, per_task = 8, 500

    async def sender(publisher: Any, t: int) -> list[PublishResult]:
        # Each task keeps up to 50 sends outstanding, like a real producer would.
        results: list[PublishResult] = []
        for start in range(0, per_task, 50):
            results += await asyncio.gather(*(publisher.send(f"{t}-{i}") for i in range(start, start + 50)))
        return results

    async def scenario(client: AsyncClient) -> None:
        async with client.publisher(topic) as publisher:
            per = await asyncio.gather(*(sender(publisher, t) for t in range(tasks)))
        seen = set()
        for got in per:
            assert offsets(got) == sorted(offsets(got))
            seen.update(offsets(got))
        assert seen == set(range(tasks * per_task))
        assert await stored(client, topic, tasks * per_task)()

    run(scenario, broker.address)


def test_an_async_send_batch_spans_several_requests_in_order(broker: BrokerProcess, topic: str) -> None:
    async def scenario(client: AsyncClient) -> None:
        async with client.publisher(topic, max_batch_messages=10) as publisher:
            before, batch, after, empty = await asyncio.gather(
                publisher.send(b"before"), publisher.send_batch([f"m{i}" for i in range(95)]),
                publisher.send(b"after"), publisher.send_batch([]))
        assert (before.offset, offsets(batch), after.offset, empty) == (0, list(range(1, 96)), 96, [])

    run(scenario, broker.address)


def test_an_async_refused_request_fails_only_its_messages(broker: BrokerProcess, topic: str) -> None:
    async def scenario(client: AsyncClient) -> None:
        messages = [Outgoing(f"m{i}", partition=7 if i == 25 else None) for i in range(30)]
        async with client.publisher(topic, max_batch_messages=10) as publisher:
            with pytest.raises(SendBatchError) as raised:
                await publisher.send_batch(messages)
        error = raised.value
        assert (error.code, error.index) == (grpc.StatusCode.INVALID_ARGUMENT, 20)
        assert offsets(error.results[:20]) == list(range(20))  # type: ignore[arg-type]
        assert error.results[20:] == [None] * 10

    run(scenario, broker.address)


def test_async_publishing_to_a_missing_topic_fails_with_not_found(broker: BrokerProcess) -> None:
    async def scenario(client: AsyncClient) -> None:
        async with client.publisher("no-such-topic") as publisher:
            with pytest.raises(SluiceError) as raised:
                await publisher.send(b"x")
            with pytest.raises(SendBatchError) as raised_batch:
                await publisher.send_batch([b"a"])
        assert raised.value.code == grpc.StatusCode.NOT_FOUND
        assert (raised_batch.value.code, raised_batch.value.index) == (grpc.StatusCode.NOT_FOUND, 0)

    run(scenario, broker.address)


def test_async_close_waits_for_sends_whose_coroutines_never_ran(broker: BrokerProcess, topic: str) -> None:
    async def scenario(client: AsyncClient) -> None:
        publisher = client.publisher(topic, linger=0.05)
        sends = [publisher.send(b"x") for _ in range(2000)]  # taken now, awaited later
        batch = publisher.send_batch([b"y"] * 1000)
        await publisher.close()
        assert offsets(await asyncio.gather(*sends)) == list(range(2000))
        assert offsets(await batch) == list(range(2000, 3000))
        with pytest.raises(SluiceError) as raised:
            publisher.send(b"late")
        assert raised.value.code == grpc.StatusCode.FAILED_PRECONDITION
        with pytest.raises(SendBatchError):
            publisher.send_batch([b"late"])

    run(scenario, broker.address)


def test_async_flush_waits_for_the_sends_made_before_it(broker: BrokerProcess, topic: str) -> None:
    async def scenario(client: AsyncClient) -> None:
        async with client.publisher(topic, linger=60) as publisher:
            sends = [publisher.send(b"x") for _ in range(3)]
            await publisher.flush(timeout=10)
            assert await stored(client, topic, 3)()  # without the flush, not for a minute
            assert offsets(await asyncio.gather(*sends)) == [0, 1, 2]

    run(scenario, broker.address)


def test_an_async_send_waits_while_unconfirmed_bytes_fill_the_bound(
    broker: BrokerProcess, topic: str, proxy: TcpProxy
) -> None:
    async def scenario(client: AsyncClient) -> None:
        async with AsyncClient(proxy.address) as proxied, proxied.publisher(topic, max_unconfirmed_bytes=1) as publisher:
            await publisher.send(b"warm-up")
            proxy.hold_responses()
            try:
                first = asyncio.ensure_future(publisher.send(b"first"))
                await wait_for_async("the first stored", stored(client, topic, 2))
                second = asyncio.ensure_future(publisher.send(b"second"))
                # Nothing announces that a send is still held back: give it time to go wrong.
                await asyncio.wait({second}, timeout=0.3)
                assert not second.done() and await stored(client, topic, 2)()
            finally:
                proxy.release_responses()
            assert ((await first).offset, (await second).offset) == (1, 2)

    run(scenario, broker.address)


def test_an_async_publisher_resends_after_a_cut_and_gets_duplicates(
    broker: BrokerProcess, topic: str, proxy: TcpProxy
) -> None:
    async def scenario(client: AsyncClient) -> None:
        async with AsyncClient(proxy.address) as proxied, proxied.publisher(topic, reconnect=FAST_RECONNECT) as publisher:
            assert (await publisher.send(b"confirmed")).offset == 0
            proxy.hold_responses()
            try:
                sends = [asyncio.ensure_future(publisher.send(f"s{i}")) for i in range(3)]
                batch = asyncio.ensure_future(publisher.send_batch([f"b{i}" for i in range(3)]))
                await wait_for_async("all stored, none confirmed", stored(client, topic, 7))
                assert not any(s.done() for s in sends) and not batch.done()
            finally:
                proxy.cut()
            resent = list(await asyncio.gather(*sends)) + await batch
        assert resent == [PublishResult(0, offset, True) for offset in range(1, 7)]
        assert await stored(client, topic, 7)()

    run(scenario, broker.address)


def test_no_task_is_left_running_after_an_async_close(broker: BrokerProcess, topic: str) -> None:
    async def scenario(client: AsyncClient) -> None:
        before = asyncio.all_tasks()
        publisher = client.publisher(topic)
        await publisher.send_batch([b"a"] * 100)
        await publisher.send(b"b")
        await publisher.close()
        assert asyncio.all_tasks() - before == set()

    run(scenario, broker.address)
