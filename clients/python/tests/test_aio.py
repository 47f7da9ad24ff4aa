from __future__ import annotations

import asyncio

import grpc
import pytest

from broker_process import BrokerProcess
from sluice_client import SluiceError
from sluice_client.aio import AsyncClient


def run(coro):
    return asyncio.run(asyncio.wait_for(coro, 30))


def test_the_async_client_publishes_consumes_and_acks(broker: BrokerProcess, topic: str) -> None:
    async def scenario() -> None:
        async with AsyncClient(broker.address) as client:
            assert [p.offset for p in await client.publish(topic, [b"a", b"b"])] == [0, 1]
            async with await client.subscribe(topic, "g") as sub:
                seen = []
                async for message in sub:
                    seen.append(message.payload)
                    message.ack()
                    if len(seen) == 2:
                        break
                assert seen == [b"a", b"b"]
                deadline = asyncio.get_running_loop().time() + 10
                while (await client.get_group(topic, "g")).partitions[0].committed_offset != 2:
                    assert asyncio.get_running_loop().time() < deadline, "committed offset never reached 2"
                    await asyncio.sleep(0.02)

    run(scenario())


def test_the_async_client_raises_sluice_errors(broker: BrokerProcess) -> None:
    async def scenario() -> None:
        async with AsyncClient(broker.address) as client:
            with pytest.raises(SluiceError) as raised:
                await client.subscribe("no-such-topic", "g")
            assert raised.value.code == grpc.StatusCode.NOT_FOUND
            with pytest.raises(SluiceError) as missing:
                await client.get_topic("no-such-topic")
            assert missing.value.code == grpc.StatusCode.NOT_FOUND

    run(scenario())


def test_an_async_subscription_redelivers_a_nacked_message(broker: BrokerProcess, topic: str) -> None:
    async def scenario() -> None:
        async with AsyncClient(broker.address) as client:
            await client.publish(topic, [b"retry"])
            async with await client.subscribe(topic, "g") as sub:
                first = await sub.receive(timeout=10)
                assert first is not None
                first.nack()
                again = await sub.receive(timeout=10)
                assert again is not None and (again.offset, again.attempt) == (0, 2)
                with pytest.raises(TimeoutError):
                    await sub.receive(timeout=0.2)

    run(scenario())
