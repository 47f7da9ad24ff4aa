"""How the clients open their channel: TLS and mutual TLS settings, and the
bearer token added to every call."""

from __future__ import annotations

import collections
import re
from typing import Any, Callable, Sequence, Union

import grpc
import grpc.aio

Pem = Union[bytes, str]

# gRPC metadata values are printable ASCII; a token never needs a space.
_TOKEN = re.compile(r"[\x21-\x7e]+")


def _pem(value: Pem | None) -> bytes | None:
    return value.encode() if isinstance(value, str) else value


def channel_credentials(
    credentials: grpc.ChannelCredentials | None,
    root_certificates: Pem | None,
    private_key: Pem | None,
    certificate_chain: Pem | None,
) -> grpc.ChannelCredentials | None:
    """TLS credentials from PEM settings, ``credentials`` as given, or None
    for plaintext. Raises ``ValueError`` for a key without a certificate
    chain (or the reverse), or PEM settings together with ``credentials``."""
    if (private_key is None) != (certificate_chain is None):
        raise ValueError("private_key and certificate_chain go together: give both for mutual TLS, or neither")
    pem_given = root_certificates is not None or private_key is not None
    if credentials is not None and pem_given:
        raise ValueError("give either credentials or root_certificates/private_key/certificate_chain, not both")
    if not pem_given:
        return credentials
    return grpc.ssl_channel_credentials(_pem(root_certificates), _pem(private_key), _pem(certificate_chain))


def bearer_metadata(token: str) -> tuple[str, str]:
    """The ``authorization`` metadata entry for ``token``; ``ValueError`` for a malformed token."""
    if not _TOKEN.fullmatch(token):
        raise ValueError("the token must be non-empty printable ASCII without spaces")
    return ("authorization", f"Bearer {token}")


class _Details(
    collections.namedtuple("_Details", ("method", "timeout", "metadata", "credentials", "wait_for_ready", "compression")),
    grpc.ClientCallDetails,
):
    pass


class _Bearer(
    grpc.UnaryUnaryClientInterceptor,
    grpc.UnaryStreamClientInterceptor,
    grpc.StreamUnaryClientInterceptor,
    grpc.StreamStreamClientInterceptor,
):
    """Adds the token to every call. An interceptor rather than call
    credentials, which gRPC refuses on plaintext channels (a broker behind a
    TLS proxy on the same host is reached in plaintext)."""

    def __init__(self, entry: tuple[str, str]) -> None:
        self._entry = entry

    def _details(self, d: grpc.ClientCallDetails) -> grpc.ClientCallDetails:
        metadata = tuple(d.metadata or ()) + (self._entry,)
        return _Details(d.method, d.timeout, metadata, d.credentials, getattr(d, "wait_for_ready", None), getattr(d, "compression", None))

    def intercept_unary_unary(self, continuation: Callable[..., Any], details: grpc.ClientCallDetails, request: Any) -> Any:
        return continuation(self._details(details), request)

    def intercept_unary_stream(self, continuation: Callable[..., Any], details: grpc.ClientCallDetails, request: Any) -> Any:
        return continuation(self._details(details), request)

    def intercept_stream_unary(self, continuation: Callable[..., Any], details: grpc.ClientCallDetails, requests: Any) -> Any:
        return continuation(self._details(details), requests)

    def intercept_stream_stream(self, continuation: Callable[..., Any], details: grpc.ClientCallDetails, requests: Any) -> Any:
        return continuation(self._details(details), requests)


class _AioBearer(
    grpc.aio.UnaryUnaryClientInterceptor,
    grpc.aio.UnaryStreamClientInterceptor,
    grpc.aio.StreamUnaryClientInterceptor,
    grpc.aio.StreamStreamClientInterceptor,
):
    """The asyncio twin of ``_Bearer``."""

    def __init__(self, entry: tuple[str, str]) -> None:
        self._entry = entry

    def _details(self, d: grpc.aio.ClientCallDetails) -> grpc.aio.ClientCallDetails:
        metadata = grpc.aio.Metadata(*tuple(d.metadata or ()), self._entry)
        return d._replace(metadata=metadata)

    async def intercept_unary_unary(self, continuation: Any, details: grpc.aio.ClientCallDetails, request: Any) -> Any:
        return await continuation(self._details(details), request)

    async def intercept_unary_stream(self, continuation: Any, details: grpc.aio.ClientCallDetails, request: Any) -> Any:
        return await continuation(self._details(details), request)

    async def intercept_stream_unary(self, continuation: Any, details: grpc.aio.ClientCallDetails, requests: Any) -> Any:
        return await continuation(self._details(details), requests)

    async def intercept_stream_stream(self, continuation: Any, details: grpc.aio.ClientCallDetails, requests: Any) -> Any:
        return await continuation(self._details(details), requests)


def open_channel(
    address: str,
    credentials: grpc.ChannelCredentials | None,
    token: str | None,
    options: Sequence[tuple[str, object]],
) -> grpc.Channel:
    """A blocking channel: TLS when ``credentials`` are given, with the token on every call."""
    channel = (
        grpc.secure_channel(address, credentials, options)
        if credentials is not None
        else grpc.insecure_channel(address, options)
    )
    return channel if token is None else grpc.intercept_channel(channel, _Bearer(bearer_metadata(token)))


def open_aio_channel(
    address: str,
    credentials: grpc.ChannelCredentials | None,
    token: str | None,
    options: Sequence[tuple[str, object]],
) -> grpc.aio.Channel:
    """An asyncio channel: TLS when ``credentials`` are given, with the token on every call."""
    interceptors = [] if token is None else [_AioBearer(bearer_metadata(token))]
    if credentials is not None:
        return grpc.aio.secure_channel(address, credentials, options, interceptors=interceptors)
    return grpc.aio.insecure_channel(address, options, interceptors=interceptors)
