"""Bounded waits and fast feed settings for tests against the fake exchanges."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

#: Small intervals so drops, silence and reconnects resolve in well under a second.
FAST = {"heartbeat_interval": 0.3, "reconnect_delay": 0.05, "max_reconnect_delay": 0.2}


async def wait_until(predicate: Callable[[], Any], timeout: float = 3.0) -> None:
    """Poll ``predicate`` until true; TimeoutError after ``timeout`` seconds."""
    async with asyncio.timeout(timeout):
        while not predicate():
            await asyncio.sleep(0.01)


def tasks_now() -> set[asyncio.Task[Any]]:
    """Tasks other than the running test's own."""
    return asyncio.all_tasks() - {asyncio.current_task()}


async def assert_no_task_leak(before: set[asyncio.Task[Any]]) -> None:
    """Every task started since ``before`` has finished (a few loop turns allowed)."""
    await wait_until(lambda: not {t for t in tasks_now() - before if not t.done()}, 2)
