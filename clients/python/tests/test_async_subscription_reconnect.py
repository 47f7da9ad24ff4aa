"""The asyncio AsyncSubscription reconnects after a broken stream."""

from __future__ import annotations

import asyncio
import time

import grpc
import pytest

from broker_process import BrokerProcess
from sluice_client import Reconnect, SluiceError
from sluice_client.aio import AsyncClient, AsyncSubscription
from support import OnLog, wait_for_async
from tcp_proxy import TcpProxy

FAST = Reconnect(initial_delay=0.02, max_delay=0.2)
OWN_SUBCHANNELS = [("grpc.use_local_subchannel_pool", 1)]


def run(coro):
    return asyncio.run(asyncio.wait_for(coro, 60))


def payloads(start: int, stop: int) -> list[bytes]:
    return [f"m{i}".encode() for i in range(start, stop)]


async def committed(client: AsyncClient, topic: str) -> int:
    return (await client.get_group(topic, "g")).partitions[0].committed_offset


async def ack_until(sub: AsyncSubscription, acked: set[bytes], count: int) -> None:
    while len(acked) < count:
        message = await sub.receive(timeout=30)
        assert message is not None
        message.ack()
        acked.add(message.payload)


async def ack_until_committed(
    sub: AsyncSubscription, acked: set[bytes], client: AsyncClient, topic: str, total: int
) -> None:
    """As in the blocking tests: an ack made as the stream broke may be lost."""
    deadline = time.monotonic() + 30
    while await committed(client, topic) < total:
        assert time.monotonic() < deadline, f"committed {await committed(client, topic)} of {total}"
        try:
            message = await sub.receive(timeout=0.2)
        except TimeoutError:
            continue
        assert message is not None
        message.ack()
        acked.add(message.payload)



def test_async_consumption_goes_on_across_a_cut_connection(broker: BrokerProcess, topic: str, proxy: TcpProxy) -> None:
    async def scenario() -> None:
        acked: set[bytes] = set()
        async with AsyncClient(broker.address) as client, AsyncClient(proxy.address) as via:
            await client.publish(topic, payloads(0, 20))
            async with await via.subscribe(topic, "g", max_in_flight=5, reconnect=FAST) as sub:
                first_consumer = sub.consumer_id
                await ack_until(sub, acked, 10)
                proxy.cut()
                await client.publish(topic, payloads(20, 30))
                await ack_until_committed(sub, acked, client, topic, 30)
                assert sub.consumer_id != first_consumer
        assert acked == set(payloads(0, 30))

    run(scenario())


def test_async_consumption_goes_on_across_a_broker_restart(own_broker: BrokerProcess) -> None:
    async def scenario() -> None:
        acked: set[bytes] = set()
        async with AsyncClient(own_broker.address) as client:
            await client.create_topic("restart")
            await client.publish("restart", payloads(0, 20))
            async with await client.subscribe("restart", "g", max_in_flight=5, reconnect=FAST) as sub:
                await ack_until(sub, acked, 10)
                await asyncio.to_thread(own_broker.restart)
                async with AsyncClient(own_broker.address, options=OWN_SUBCHANNELS) as after:
                    await after.publish("restart", payloads(20, 30))
                    await ack_until_committed(sub, acked, after, "restart", 30)
        assert acked == set(payloads(0, 30))

    run(scenario())


def test_deleting_the_group_ends_an_async_subscription_with_aborted(broker: BrokerProcess, topic: str) -> None:
    async def scenario() -> None:
        async with AsyncClient(broker.address) as client:
            async with await client.subscribe(topic, "g", reconnect=FAST) as sub:
                await client.delete_group(topic, "g", force=True)
                with pytest.raises(SluiceError) as ended:
                    await sub.receive(timeout=10)
                assert ended.value.code == grpc.StatusCode.ABORTED
            with pytest.raises(SluiceError) as missing:  # no reopen made the group again
                await client.get_group(topic, "g")
            assert missing.value.code == grpc.StatusCode.NOT_FOUND

    run(scenario())


def test_spent_max_attempts_end_an_async_subscription_with_unavailable(topic: str, proxy: TcpProxy) -> None:
    async def scenario() -> None:
        policy = Reconnect(initial_delay=0.01, max_delay=0.05, max_attempts=2)
        async with AsyncClient(proxy.address) as via:
            async with await via.subscribe(topic, "g", reconnect=policy) as sub:
                proxy.close()
                with pytest.raises(SluiceError) as ended:
                    async for _ in sub:
                        pass
                assert ended.value.code == grpc.StatusCode.UNAVAILABLE
                assert "gave up after 2 failed attempts" in ended.value.details

    run(scenario())


def test_async_close_during_a_backoff_returns_at_once_and_leaves_no_task(topic: str, proxy: TcpProxy) -> None:
    async def scenario() -> None:
        loop = asyncio.get_running_loop()
        backing_off = asyncio.Event()
        slow = Reconnect(initial_delay=60, max_delay=60, jitter=0)
        async with AsyncClient(proxy.address) as via:
            before = asyncio.all_tasks()
            with OnLog("sluice_client.subscription", "broke", backing_off.set):
                sub = await via.subscribe(topic, "g", reconnect=slow)
                proxy.close()
                await asyncio.wait_for(backing_off.wait(), 10)
                started = loop.time()
                await sub.close()
                assert loop.time() - started < 1
                assert sub.closed and await sub.receive(timeout=1) is None
            assert [t for t in asyncio.all_tasks() - before if not t.done()] == []

    run(scenario())


def test_an_async_ack_of_a_message_from_a_broken_stream_is_sent_on_the_new_one(
    broker: BrokerProcess, topic: str, proxy: TcpProxy
) -> None:
    async def scenario() -> None:
        reconnected = asyncio.Event()
        async with AsyncClient(broker.address) as client, AsyncClient(proxy.address) as via:
            await client.publish(topic, payloads(0, 1))
            with OnLog("sluice_client.subscription", "reconnected", reconnected.set):
                async with await via.subscribe(topic, "g", reconnect=FAST) as sub:
                    old = await sub.receive(timeout=10)
                    assert old is not None
                    proxy.cut()
                    await asyncio.wait_for(reconnected.wait(), 30)
                    old.ack()
                    async def is_committed() -> bool:
                        return await committed(client, topic) == 1
                    await wait_for_async("the old stream's message committed", is_committed)

    run(scenario())
