"""PriceFeedManager with the real Binance and Coinbase feeds against both fakes."""

from __future__ import annotations

import time

import pytest

from devtools import FakeBinance, FakeCoinbase
from streaming.feeds.base import DataSource, PriceFeedProvider
from streaming.feeds.binance import BinancePriceFeed
from streaming.feeds.coinbase import CoinbasePriceFeed
from streaming.feeds.manager import default_feed_factory

from .netutil import (
    FAST,
    STALE_AFTER,
    SYMBOLS,
    assert_no_task_leak,
    failover_manager,
    next_updates,
    serving,
    tasks_now,
    wait_until,
)

pytestmark = pytest.mark.timeout(30)


@pytest.fixture
async def fakes():
    async with (
        FakeBinance(seed=3) as binance,
        FakeCoinbase(seed=4, heartbeat_interval=0.1) as coinbase,
    ):
        binance.start_ticking(SYMBOLS, 20)
        coinbase.start_ticking(SYMBOLS, 20)
        yield binance, coinbase


@pytest.fixture
async def running(fakes):
    binance, coinbase = fakes
    before = tasks_now()
    manager, got = failover_manager(
        BinancePriceFeed(SYMBOLS, url=binance.url, **FAST),
        CoinbasePriceFeed(SYMBOLS, url=coinbase.url, **FAST),
    )
    events: list[dict] = []
    manager.add_status_handler(events.append)
    await manager.start()
    yield manager, got, events
    await manager.stop()
    await assert_no_task_leak(before)


async def test_failover_recovery_and_both_down(fakes, running):
    binance, coinbase = fakes
    manager, got, events = running
    await wait_until(lambda: serving(manager, "binance") == SYMBOLS)
    assert manager.get_provider_status()["binance"]["is_primary"]

    binance.silent()
    silent_at = time.monotonic()
    await wait_until(lambda: serving(manager, "coinbase") == SYMBOLS, STALE_AFTER + 1)
    assert time.monotonic() - silent_at < STALE_AFTER + 1
    assert {u.source for u in await next_updates(got)} == {DataSource.COINBASE}
    switches = [e for e in events if e["type"] == "feed_switch"]
    assert {(e["symbol"], e["from"], e["to"]) for e in switches} >= {
        ("BTC", "binance", "coinbase"),
        ("ETH", "binance", "coinbase"),
    }

    binance.silent(False)
    await wait_until(lambda: serving(manager, "binance") == SYMBOLS, 5)
    assert {u.source for u in await next_updates(got)} == {DataSource.BINANCE}
    assert any(e.get("reason") == "recovered" for e in events)

    await binance.stop()
    await coinbase.stop()
    await wait_until(lambda: manager.get_stale_symbols() == SYMBOLS, STALE_AFTER + 1)
    status = manager.get_provider_status()
    assert status["binance"]["status"] in ("reconnecting", "connecting")
    assert status["coinbase"]["status"] in ("reconnecting", "connecting")
    assert status["binance"]["serving"] == status["coinbase"]["serving"] == []
    symbols = manager.get_symbol_status()
    assert all(symbols[s]["stale"] and symbols[s]["source"] is None for s in SYMBOLS)
    assert any(e["type"] == "feed_switch" and e["to"] is None for e in events)


async def test_killed_primary_restarts_and_serves_again(fakes, running):
    binance, coinbase = fakes
    manager, got, events = running
    await wait_until(lambda: serving(manager, "binance") == SYMBOLS)
    await binance.stop()
    await wait_until(lambda: serving(manager, "coinbase") == SYMBOLS, STALE_AFTER + 1)
    assert manager.get_provider_status()["binance"]["status"] != "connected"
    await binance.start()
    await wait_until(lambda: serving(manager, "binance") == SYMBOLS, 5)
    last = manager.get_last_update_time("BTC")
    assert last is not None and last.tzinfo is not None


def test_default_factory_uses_url_settings(settings):
    settings.BINANCE_WS_URL = "ws://127.0.0.1:9443"
    settings.COINBASE_WS_URL = "ws://127.0.0.1:9444"
    binance = default_feed_factory(PriceFeedProvider.BINANCE, ["BTC"])
    coinbase = default_feed_factory(PriceFeedProvider.COINBASE, ["BTC"])
    assert binance.url == "ws://127.0.0.1:9443/stream"
    assert coinbase.url == "ws://127.0.0.1:9444"
