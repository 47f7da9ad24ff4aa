"""Helpers shared by the tests."""

from __future__ import annotations

import time
from typing import Callable


def wait_for(what: str, check: Callable[[], object], timeout: float = 10.0) -> None:
    """Polls ``check`` until it returns truthy, for broker state that only an
    admin RPC can observe (no event announces it)."""
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.02)
