from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from decimal import Decimal

from streaming.feeds.base import DataSource, FeedStatus
from streaming.feeds.mock import (
    MockPriceFeed,
    quantum_for,
    starting_price,
    step_sigma_bps,
)

NOW = datetime(2026, 1, 1, tzinfo=UTC)


def test_seeded_walk_is_exact_and_deterministic():
    feed = MockPriceFeed(["BTC", "ETH", "SOL", "XYZ"], seed=42)
    first = feed.next_updates(NOW)
    assert [u.symbol for u in first] == ["BTC", "ETH", "SOL", "XYZ"]
    for update in first:
        # prices keep an exchange-like tick, computed in exact Decimal
        assert update.price == update.price.quantize(quantum_for(update.price))
    btc = first[0]
    assert btc.change_24h == btc.price - Decimal("60000.00")
    second = feed.tick(NOW)
    assert [u.price for u in second] != [u.price for u in first]
    again = MockPriceFeed(["BTC", "ETH", "SOL", "XYZ"], seed=42)
    assert again.next_updates(NOW) == first


def test_moves_are_of_the_assets_real_volatility():
    # BTC: ~50 % a year is ~0.05 % in 30 s (one sigma); 1.6 % would be 30 sigmas.
    assert 4 < step_sigma_bps("BTC", 30) < 6
    assert (
        step_sigma_bps("USDT", 30)
        < step_sigma_bps("BTC", 30)
        < (step_sigma_bps("DOGE", 30))
    )
    for seed in range(20):
        feed = MockPriceFeed(["BTC"], update_interval=1.0, seed=seed)
        prices = [feed.next_updates(NOW)[0].price for _ in range(30)]
        move = abs(prices[-1] - Decimal("60000")) / Decimal("60000")
        assert move < Decimal("0.004"), (seed, move)  # < 0.4 % in 30 s, always


def test_only_listed_symbols_get_a_price():
    feed = MockPriceFeed(["BTC", "XXXX"], seed=1, listed=lambda s: s == "BTC")
    assert [u.symbol for u in feed.next_updates(NOW)] == ["BTC"]
    feed.add_symbol("XQZV")
    assert feed.status_info()["unsupported"] == ["XQZV", "XXXX"]
    assert "XQZV" not in feed.symbols


def test_every_update_is_labelled_mock_and_decimal():
    feed = MockPriceFeed(["BTC", "DOGE"], seed=1)
    for _ in range(200):
        for update in feed.next_updates(NOW):
            assert update.source is DataSource.MOCK
            assert isinstance(update.price, Decimal) and update.price > 0
            assert update.price.as_tuple().exponent >= -8
            assert update.timestamp == NOW


def test_quantum_follows_price_level():
    assert quantum_for(Decimal("60000")) == Decimal("0.01")
    assert quantum_for(Decimal("150")) == Decimal("0.0001")
    assert quantum_for(Decimal("0.12")) == Decimal("0.00000001")


def test_prices_stay_realistic():
    feed = MockPriceFeed(["BTC"], seed=7)
    prices = [feed.next_updates(NOW)[0].price for _ in range(500)]
    assert all(Decimal(30000) < p < Decimal(120000) for p in prices)


def test_unknown_symbol_start_is_stable_across_processes():
    # crc32-based, not hash(): same value under any PYTHONHASHSEED
    assert starting_price("XYZ") == Decimal("27.0200")
    assert starting_price("BTC") == Decimal("60000.00")
    assert starting_price("ETH") == Decimal("3000.00")
    assert starting_price("SOL") == Decimal("150.0000")


async def test_loop_dispatches_and_reports_status():
    feed = MockPriceFeed(["BTC", "ETH"], update_interval=0.01, seed=3)
    got = []
    statuses = []
    feed.add_handler(got.append)
    feed.add_status_listener(lambda f, s: statuses.append(s))
    await feed.start()
    assert feed.connected
    await asyncio.sleep(0.1)
    await feed.stop()
    assert not feed.connected
    assert statuses == [FeedStatus.CONNECTED, FeedStatus.DISCONNECTED]
    assert len(got) >= 4 and {u.symbol for u in got} == {"BTC", "ETH"}
    assert feed.messages == len(got)
    assert set(feed.last_update) == {"BTC", "ETH"}


async def test_failing_handler_does_not_stop_others():
    feed = MockPriceFeed(["BTC"], seed=3)
    got = []

    def bad(update):
        raise RuntimeError("boom")

    async def good(update):
        got.append(update)

    feed.add_handler(bad)
    feed.add_handler(good)
    for update in feed.next_updates(NOW):
        await feed.dispatch(update)
    assert len(got) == 1 and feed.handler_errors == 1


def test_add_and_remove_symbol():
    feed = MockPriceFeed(["BTC"], seed=3)
    feed.add_symbol("ETH")
    feed.add_symbol("ETH")
    assert feed.symbols == ["BTC", "ETH"]
    feed.remove_symbol("BTC")
    assert [u.symbol for u in feed.next_updates(NOW)] == ["ETH"]
    info = feed.status_info()
    assert info["provider"] == "mock" and info["symbols"] == ["ETH"]


async def test_base_feed_start_and_stop_are_ordinary_methods() -> None:
    from streaming.feeds.base import BasePriceFeed
    from streaming.feeds.providers import PriceFeedProvider

    feed = BasePriceFeed(PriceFeedProvider.MOCK, ["BTC"])
    await feed.start()
    assert feed.running
    await feed.stop()
    assert not feed.running and feed.status is FeedStatus.DISCONNECTED
