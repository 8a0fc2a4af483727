"""Shared waits, settings and steps for tests against the fake exchanges."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from decimal import Decimal
from typing import Any

from streaming.feeds.base import BasePriceFeed, PriceUpdate
from streaming.feeds.manager import PriceFeedManager

#: Small intervals so drops, silence and reconnects resolve in well under a second.
FAST = {"heartbeat_interval": 0.3, "reconnect_delay": 0.05, "max_reconnect_delay": 0.2}

#: Failover tests: a provider silent this long (seconds) loses its symbols.
STALE_AFTER = 0.5
SYMBOLS = ["BTC", "ETH"]

FeedFor = Callable[..., Awaitable[tuple[Any, list[PriceUpdate]]]]


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


@contextlib.asynccontextmanager
async def started_feeds(
    feed_class: type[BasePriceFeed], url: str
) -> AsyncIterator[FeedFor]:
    """``make(symbols, **options)`` starts a feed on ``url`` recording its prices;
    every feed made is stopped on leaving, so a failed test leaves no socket."""
    feeds: list[BasePriceFeed] = []

    async def make(symbols: list[str], **options: Any) -> tuple[Any, list]:
        feed = feed_class(symbols, url=url, **{**FAST, **options})
        got: list[PriceUpdate] = []
        feed.add_handler(got.append)
        feeds.append(feed)
        await feed.start()
        return feed, got

    try:
        yield make
    finally:
        for feed in feeds:
            await feed.stop()


async def price_of(got: list[PriceUpdate], symbol: str, price: str) -> PriceUpdate:
    """The first update of ``symbol`` at exactly ``price``, once it has arrived."""

    def found() -> bool:
        return any(u.symbol == symbol and u.price == Decimal(price) for u in got)

    await wait_until(found)
    return next(u for u in got if u.symbol == symbol and u.price == Decimal(price))


async def assert_stop_leaks_no_task(
    fake: Any, feed_class: type[BasePriceFeed], *, drop: bool = False
) -> None:
    """Start a feed, change its symbols (and cut its socket with ``drop``), stop it:
    no task of it outlives ``stop()`` and the fake sees its socket close."""
    before = tasks_now()
    feed = feed_class(["BTC"], url=fake.endpoint, **FAST)
    await feed.start()
    await fake.wait_clients(1)
    feed.add_symbol("ETH")
    if drop:
        await fake.drop()
    await feed.stop()
    await assert_no_task_leak(before)
    await fake.wait_clients(0)


async def kill_and_restart(fake: Any, feed: BasePriceFeed, down_for: float) -> None:
    """Kill the fake like a crashed process, keep it down, start it on its port."""
    await fake.stop()
    await wait_until(lambda: not feed.connected)
    await asyncio.sleep(down_for)  # long enough for several reconnect attempts
    await fake.start()


def failover_manager(
    primary: BasePriceFeed, fallback: BasePriceFeed
) -> tuple[PriceFeedManager, list[PriceUpdate]]:
    """A PriceFeedManager over ``primary`` then ``fallback``, recording its prices."""
    manager = PriceFeedManager(stale_after=STALE_AFTER, check_interval=0.05)
    manager.add_feed(primary, True)
    manager.add_feed(fallback)
    got: list[PriceUpdate] = []
    manager.add_handler(got.append)
    return manager, got


def serving(manager: PriceFeedManager, provider: str) -> list[str]:
    return manager.get_provider_status()[provider]["serving"]


async def next_updates(got: list[PriceUpdate]) -> list[PriceUpdate]:
    """The next five or more updates: what the manager chooses from now on."""
    mark = len(got)
    await wait_until(lambda: len(got) > mark + 4)
    return got[mark:]
