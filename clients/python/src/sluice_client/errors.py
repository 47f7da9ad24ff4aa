"""The one error class of the client."""

from __future__ import annotations

import grpc

__all__ = ["SluiceError"]


class SluiceError(Exception):
    """A failed call to the broker, or a misuse of a closed subscription.

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
