from __future__ import annotations

import itertools
import uuid
from typing import Iterator

import pytest

from broker_process import BrokerProcess
from sluice_client import Client
from tcp_proxy import TcpProxy


@pytest.fixture(scope="session")
def broker() -> Iterator[BrokerProcess]:
    """One live broker for the session; each test works on topics of its own."""
    process = BrokerProcess()
    yield process
    process.stop()


@pytest.fixture
def own_broker() -> Iterator[BrokerProcess]:
    """A broker of the test's own, to restart."""
    process = BrokerProcess()
    yield process
    process.stop()


@pytest.fixture
def client(broker: BrokerProcess) -> Iterator[Client]:
    with Client(broker.address, timeout=30) as c:
        yield c


_seq = itertools.count()


@pytest.fixture
def topic(client: Client, request: pytest.FixtureRequest) -> str:
    """A fresh one-partition topic."""
    name = f"py-{uuid.uuid4().hex[:12]}-{next(_seq)}"
    client.create_topic(name, partitions=getattr(request, "param", 1))
    return name


@pytest.fixture
def proxy(broker: BrokerProcess) -> Iterator[TcpProxy]:
    """A proxy to the broker that the test can hold and cut."""
    p = TcpProxy(broker.address)
    yield p
    p.close()
