"""Helpers shared by the tests."""

from __future__ import annotations

import asyncio
import logging
import time
from typing import TYPE_CHECKING, Awaitable, Callable

if TYPE_CHECKING:
    from sluice_client import Client


def wait_for(what: str, check: Callable[[], object], timeout: float = 10.0) -> None:
    """Polls ``check`` until it returns truthy, for broker state that only an
    admin RPC can observe (no event announces it)."""
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.02)


async def wait_for_async(what: str, check: Callable[[], Awaitable[object]], timeout: float = 10.0) -> None:
    """``wait_for`` for asyncio tests: polls without blocking the event loop."""
    deadline = time.monotonic() + timeout
    while not await check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.02)


def end_offset(client: "Client", topic: str, partition: int = 0) -> int:
    """Where the next message of ``partition`` will go."""
    return client.get_topic(topic).partitions[partition].end_offset


class OnLog(logging.Handler):
    """Calls ``callback`` for each record of ``logger`` whose message contains
    ``text``: an event to wait on for what a client only logs (a stream that
    broke, a backoff begun). Use as a context manager to attach it."""

    def __init__(self, logger: str, text: str, callback: Callable[[], object]) -> None:
        super().__init__()
        self._logger = logging.getLogger(logger)
        self._text = text
        self._callback = callback

    def emit(self, record: logging.LogRecord) -> None:
        if self._text in record.getMessage():
            self._callback()

    def __enter__(self) -> "OnLog":
        self._level = self._logger.level
        self._logger.setLevel(logging.DEBUG)
        self._logger.addHandler(self)
        return self

    def __exit__(self, *exc: object) -> None:
        self._logger.removeHandler(self)
        self._logger.setLevel(self._level)
