from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from decimal import Decimal

from streaming.feeds.base import DataSource, FeedStatus
from streaming.feeds.mock import MockPriceFeed, quantum_for, starting_price

NOW = datetime(2026, 1, 1, tzinfo=UTC)


def test_seeded_walk_is_exact_and_deterministic():
    feed = MockPriceFeed(["BTC", "ETH", "SOL", "XYZ"], seed=42)
    first = feed.next_updates(NOW)
    assert [(u.symbol, u.price) for u in first] == [
        ("BTC", Decimal("59892.00")),
        ("ETH", Decimal("2997.60")),
        ("SOL", Decimal("149.7450")),
        ("XYZ", Decimal("27.0686")),
    ]
    assert first[0].change_24h == Decimal("-108.00")
    assert first[0].change_percent_24h == Decimal("-0.1800")
    assert first[0].volume_24h == Decimal("671490")
    second = feed.tick(NOW)
    assert [u.price for u in second] == [
        Decimal("59945.90"),
        Decimal("3001.20"),
        Decimal("149.4006"),
        Decimal("27.0145"),
    ]
    again = MockPriceFeed(["BTC", "ETH", "SOL", "XYZ"], seed=42)
    assert again.next_updates(NOW) == first


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
