"""The client's error class, and its form for a failed ``send_batch``."""

from __future__ import annotations

from typing import TYPE_CHECKING, Sequence

import grpc

if TYPE_CHECKING:
    from sluice_client.values import PublishResult

__all__ = ["SendBatchError", "SluiceError"]


class SluiceError(Exception):
    """A failed call to the broker, or a misuse of a closed subscription or publisher.

    ``code`` is the gRPC status code (a ``grpc.StatusCode``), the closed set
    every Sluice RPC documents (``NOT_FOUND``, ``INVALID_ARGUMENT``, ...);
    ``details`` is the broker's message for a person. The underlying
    ``grpc.RpcError``, when there is one, is the ``__cause__``.
    """

    def __init__(self, code: grpc.StatusCode, details: str) -> None:
        super().__init__(f"{code.name}: {details}")
        self.code = code
        self.details = details

    @classmethod
    def from_rpc_error(cls, error: grpc.RpcError) -> "SluiceError":
        """Builds the error from a sync or asyncio gRPC error."""
        code = error.code() if hasattr(error, "code") else None
        details = error.details() if hasattr(error, "details") else None
        result = cls(code or grpc.StatusCode.UNKNOWN, details or str(error))
        result.__cause__ = error
        return result


class SendBatchError(SluiceError):
    """How a publisher's ``send_batch`` failed: a ``SluiceError`` (so
    ``code`` is the one to branch on) that also tells which messages were
    stored.

    ``index`` is the position in the batch of the first message that was not
    stored; ``code`` and ``details`` are that message's error (the broker's
    code for a refused request, ``FAILED_PRECONDITION`` for a closed
    publisher, the stream's error when reconnection gave up). ``results``
    has one entry per message, in batch order: its ``PublishResult``, or
    ``None`` when its storing was not confirmed. The broker refuses a
    request whole, and a large batch goes out as several requests, so some
    of a batch may be stored and others not. A message that was on the wire
    when reconnection gave up may have been stored all the same: messages
    with their own ``message_id`` can be sent again safely (the broker
    deduplicates them within the topic's dedupe window).
    """

    def __init__(
        self, code: grpc.StatusCode, details: str, index: int, results: Sequence[PublishResult | None]
    ) -> None:
        super().__init__(code, details)
        self.index = index
        self.results: list[PublishResult | None] = list(results)
        self.args = (f"{code.name}: {details} (message {index} of a batch of {len(self.results)} "
                     f"was the first not stored)",)
