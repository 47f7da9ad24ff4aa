"""The client against a broker with mutual TLS and a tokens file."""

from __future__ import annotations

import asyncio
import hashlib
import shutil
import tempfile
from pathlib import Path
from typing import Iterator

import grpc
import pytest

from broker_process import BrokerProcess, generate_certs
from sluice_client import Client, SluiceError
from sluice_client.aio import AsyncClient

ROOT_TOKEN = "root-token-0123456789"


@pytest.fixture(scope="module")
def certs() -> Iterator[dict]:
    directory = tempfile.mkdtemp(prefix="sluice-py-certs-")
    yield generate_certs(directory)
    shutil.rmtree(directory, ignore_errors=True)


@pytest.fixture(scope="module")
def secured(certs: dict) -> Iterator[BrokerProcess]:
    tokens = Path(certs["dir"]) / "tokens.yaml"
    tokens.write_text(
        "identities:\n"
        f"  - name: root\n    token_sha256: {hashlib.sha256(ROOT_TOKEN.encode()).hexdigest()}\n"
        '    publish: ["*"]\n    subscribe: ["*"]\n    admin: ["*"]\n'
        '  - name: analytics\n    cert_subject: { CN: analytics }\n    publish: ["metrics.*"]\n'
    )
    process = BrokerProcess([
        "--tls-cert", certs["server"]["certFile"], "--tls-key", certs["server"]["keyFile"],
        "--tls-client-ca", certs["ca"]["certFile"], "--tokens-file", str(tokens),
    ])
    yield process
    process.stop()


def mtls(certs: dict, client: str = "client") -> dict:
    return {
        "root_certificates": certs["ca"]["cert"],
        "private_key": certs[client]["key"],
        "certificate_chain": certs[client]["cert"],
    }


def test_a_token_over_mutual_tls_publishes_and_consumes(secured: BrokerProcess, certs: dict) -> None:
    with Client(secured.address, token=ROOT_TOKEN, timeout=10, **mtls(certs)) as client:
        client.create_topic("py-secure")
        client.publish("py-secure", [b"first"])
        with client.subscribe("py-secure", "billing") as sub:
            message = next(iter(sub))
            assert message.payload == b"first"
            message.ack()


def test_without_a_token_the_certificate_subject_is_the_identity(secured: BrokerProcess, certs: dict) -> None:
    with Client(secured.address, token=ROOT_TOKEN, timeout=10, **mtls(certs)) as root:
        root.create_topic("metrics.py")
    with Client(secured.address, timeout=10, **mtls(certs)) as analytics:
        assert len(analytics.publish("metrics.py", [b"0.5"])) == 1
        with pytest.raises(SluiceError) as denied:
            analytics.create_topic("metrics.py-mem")
    assert denied.value.code == grpc.StatusCode.PERMISSION_DENIED
    assert denied.value.details == 'identity "analytics" lacks admin on topic "metrics.py-mem"'


def test_an_unknown_token_is_unauthenticated(secured: BrokerProcess, certs: dict) -> None:
    with Client(secured.address, token="wrong-token", timeout=10, **mtls(certs)) as client:
        with pytest.raises(SluiceError) as refused:
            list(client.list_topics())
    assert refused.value.code == grpc.StatusCode.UNAUTHENTICATED


@pytest.mark.parametrize("settings", [
    pytest.param(lambda certs: {"root_certificates": certs["ca"]["cert"]}, id="no client certificate"),
    pytest.param(lambda certs: mtls(certs, "otherClient"), id="certificate from another CA"),
])
def test_mutual_tls_refuses_the_connection(secured: BrokerProcess, certs: dict, settings) -> None:
    with Client(secured.address, token=ROOT_TOKEN, timeout=10, **settings(certs)) as client:
        with pytest.raises(SluiceError) as refused:
            list(client.list_topics())
    assert refused.value.code == grpc.StatusCode.UNAVAILABLE


def test_the_async_client_sends_the_token_and_certificate(secured: BrokerProcess, certs: dict) -> None:
    async def run() -> list[str]:
        client = AsyncClient(secured.address, token=ROOT_TOKEN, timeout=10, **mtls(certs))
        try:
            await client.create_topic("py-async-secure")
            return [t.name async for t in client.list_topics()]
        finally:
            await client.close()

    assert "py-async-secure" in asyncio.run(run())


def test_bad_settings_fail_at_construction() -> None:
    with pytest.raises(ValueError, match="private_key and certificate_chain go together"):
        Client("127.0.0.1:1", private_key=b"pem")
    with pytest.raises(ValueError, match="the token must be non-empty printable ASCII without spaces"):
        Client("127.0.0.1:1", token="two words")
