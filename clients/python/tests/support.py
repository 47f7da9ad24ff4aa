"""Helpers shared by the tests."""

from __future__ import annotations

import asyncio
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
