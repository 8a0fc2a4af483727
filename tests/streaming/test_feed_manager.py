from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from streaming.exceptions import ConfigurationError
from streaming.feeds.base import (
    BasePriceFeed,
    DataSource,
    FeedStatus,
    PriceFeedProvider,
    PriceUpdate,
)
from streaming.feeds.manager import PriceFeedManager
from streaming.feeds.mock import MockPriceFeed

P = PriceFeedProvider
STALE = 0.3


class FakeFeed(BasePriceFeed):
    """A feed driven by hand: ``push`` a price, ``go_down``/``start`` the link."""

    async def start(self) -> None:
        self._set_status(FeedStatus.CONNECTED)

    async def stop(self) -> None:
        self._set_status(FeedStatus.DISCONNECTED)

    async def push(self, symbol: str, price: str) -> None:
        await self.dispatch(
            PriceUpdate(
                symbol=symbol,
                price=Decimal(price),
                timestamp=datetime.now(UTC),
                source=DataSource(self.provider.value),
            )
        )


async def pump(feed: FakeFeed, symbol: str, price: str, seconds: float) -> None:
    """Keep ``feed`` sending ``price`` every 50 ms for ``seconds``."""
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        await feed.push(symbol, price)
        await asyncio.sleep(0.05)


async def wait_for(predicate, timeout: float) -> float:
    start = time.monotonic()
    while not predicate():
        if time.monotonic() - start > timeout:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.01)
    return time.monotonic() - start


@pytest.fixture
async def setup():
    manager = PriceFeedManager(stale_after=STALE)
    primary = FakeFeed(P.BINANCE, ["BTC", "ETH"])
    backup = FakeFeed(P.COINBASE, ["BTC", "ETH"])
    manager.add_feed(backup)
    manager.add_feed(primary, is_primary=True)
    got: list[PriceUpdate] = []
    events: list[dict] = []
    manager.add_handler(got.append)
    manager.add_status_handler(events.append)
    await manager.start()
    yield manager, primary, backup, got, events
    await manager.stop()


async def test_primary_serves_and_fallback_is_not_interleaved(setup):
    manager, primary, backup, got, _ = setup
    await primary.push("BTC", "100")
    await backup.push("BTC", "101")
    await primary.push("BTC", "102")
    await backup.push("BTC", "103")
    assert [u.price for u in got] == [Decimal("100"), Decimal("102")]
    assert manager.get_provider_status()["binance"]["serving"] == ["BTC"]


async def test_silent_primary_fails_over_then_recovers(setup):
    manager, primary, backup, got, events = setup
    await primary.push("BTC", "100")
    backup_task = asyncio.create_task(pump(backup, "BTC", "200", 3.0))
    try:
        elapsed = await wait_for(
            lambda: got and got[-1].source is DataSource.COINBASE, STALE + 1
        )
        assert elapsed <= STALE + 1
        assert events[-1]["type"] == "feed_switch"
        assert events[-1]["from"] == "binance" and events[-1]["to"] == "coinbase"
        assert events[-1]["reason"] == "stale"
        status = manager.get_provider_status()
        assert status["coinbase"]["serving"] == ["BTC"]
        assert status["binance"]["serving"] == []

        # primary comes back: it serves again and backup prices stop reaching us
        await primary.push("BTC", "150")
        assert got[-1].source is DataSource.BINANCE
        assert events[-1]["to"] == "binance" and events[-1]["reason"] == "recovered"
        count = len(got)
        await asyncio.sleep(0.15)  # backup keeps pumping meanwhile
        assert len(got) == count
    finally:
        backup_task.cancel()
    sources = [u.source for u in got]
    # one switch each way, never interleaved
    changes = sum(1 for a, b in zip(sources, sources[1:], strict=False) if a != b)
    assert changes == 2


async def test_both_silent_marks_symbol_stale(setup):
    manager, primary, backup, got, events = setup
    await primary.push("BTC", "100")
    await backup.push("BTC", "101")
    await wait_for(lambda: "BTC" in manager.get_stale_symbols(), STALE + 1)
    assert manager.get_symbol_status()["BTC"]["stale"] is True
    assert manager.get_symbol_status()["BTC"]["source"] is None
    assert events[-1]["to"] is None
    status = manager.get_provider_status()
    assert status["binance"]["serving"] == [] and status["coinbase"]["serving"] == []
    assert manager.get_last_update_time("BTC") == got[-1].timestamp


async def test_disconnected_primary_fails_over_at_once(setup):
    manager, primary, backup, got, events = setup
    await primary.push("ETH", "10")
    await backup.push("ETH", "11")
    await primary.stop()
    await wait_for(
        lambda: manager.get_symbol_status()["ETH"]["source"] == "coinbase", 0.2
    )
    # the backup's last price is forwarded at the switch
    assert got[-1].price == Decimal("11") and got[-1].source is DataSource.COINBASE
    kinds = [(e["type"], e.get("reason")) for e in events]
    assert ("provider_status", None) in kinds and (
        "feed_switch",
        "disconnected",
    ) in kinds
    assert manager.get_provider_status()["binance"]["status"] == "disconnected"


async def test_heartbeats_keep_primary_fresh(setup):
    manager, primary, backup, got, _ = setup
    await primary.push("BTC", "100")
    backup_task = asyncio.create_task(pump(backup, "BTC", "200", 0.8))
    try:
        for _ in range(16):
            primary.mark_alive("BTC")
            await asyncio.sleep(0.05)
    finally:
        backup_task.cancel()
    assert [u.source for u in got] == [DataSource.BINANCE]


async def test_a_silent_connected_feed_reports_stale_until_data_returns(setup):
    """Issue 19 item 11: a silent primary showed "connected" all its silence."""
    manager, primary, backup, _, _ = setup
    await primary.push("BTC", "100")
    backup_task = asyncio.create_task(pump(backup, "BTC", "200", 3.0))
    try:
        assert manager.get_provider_status()["binance"]["status"] == "connected"
        await wait_for(
            lambda: manager.get_provider_status()["binance"]["status"] == "stale",
            STALE + 1,
        )
        status = manager.get_provider_status()
        assert status["binance"]["connection"] == "connected"  # the socket is open
        assert status["coinbase"]["status"] == "connected"  # it still talks
        await primary.push("BTC", "150")
        assert manager.get_provider_status()["binance"]["status"] == "connected"
    finally:
        backup_task.cancel()


async def test_a_feed_that_never_sent_data_turns_stale_after_connecting(setup):
    manager, primary, backup, _, _ = setup
    await wait_for(
        lambda: manager.get_provider_status()["coinbase"]["status"] == "stale",
        STALE + 1,
    )
    assert manager.get_provider_status()["coinbase"]["connection"] == "connected"


async def test_provider_status_fields(setup):
    manager, primary, backup, _, _ = setup
    await primary.push("BTC", "100")
    primary.errors += 1
    primary.out_of_order += 2
    status = manager.get_provider_status()
    assert list(status) == ["binance", "coinbase"]
    assert status["binance"] == {
        "status": "connected",
        "connection": "connected",
        "connected_since": primary.connected_since.isoformat(),
        "messages": 1,
        "errors": 1,
        "out_of_order": 2,
        "symbols": ["BTC", "ETH"],
        "unsupported": [],
        "is_primary": True,
        "serving": ["BTC"],
    }
    assert status["coinbase"]["is_primary"] is False


async def test_add_provider_uses_injected_factory():
    made = []

    def factory(provider, symbols, stream_manager=None):
        feed = FakeFeed(provider, symbols)
        made.append(feed)
        return feed

    manager = PriceFeedManager(feed_factory=factory)
    manager.add_provider(P.BINANCE, ["BTC"], is_primary=True)
    manager.add_provider(P.COINBASE, ["BTC"])
    assert [f.provider for f in made] == [P.BINANCE, P.COINBASE]
    with pytest.raises(ConfigurationError):
        manager.add_provider(P.BINANCE, ["BTC"])
    with pytest.raises(ConfigurationError):
        manager.add_feed(FakeFeed(P.MOCK, ["BTC"]), is_primary=True)
    manager.add_symbol("SOL")
    assert all("SOL" in f.symbols for f in made)
    manager.remove_symbol("BTC")
    assert all(f.symbols == ["SOL"] for f in made)


async def test_default_factory_builds_mock_feed_end_to_end():
    manager = PriceFeedManager(stale_after=1.0)
    manager.add_provider(P.MOCK, ["BTC"], is_primary=True)
    feed = manager._entries[0].feed
    assert isinstance(feed, MockPriceFeed)
    feed.update_interval = 0.01
    got = []

    async def handler(update):
        got.append(update)

    manager.add_handler(handler)
    await manager.start()
    await wait_for(lambda: len(got) >= 3, 2)
    await manager.stop()
    assert all(u.source is DataSource.MOCK for u in got)
    assert manager.get_last_update_time("BTC") == got[-1].timestamp


async def test_failing_handlers_are_isolated(setup):
    manager, primary, _, got, _ = setup

    def bad(update):
        raise RuntimeError("boom")

    def bad_status(event):
        raise RuntimeError("boom")

    manager.add_handler(bad)
    manager.add_status_handler(bad_status)
    await primary.push("BTC", "1")
    await primary.push("BTC", "2")
    assert [u.price for u in got] == [Decimal("1"), Decimal("2")]
