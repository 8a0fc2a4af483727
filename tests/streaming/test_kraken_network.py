"""KrakenPriceFeed end to end over real sockets against FakeKraken on 127.0.0.1."""

from __future__ import annotations

from decimal import Decimal

import pytest

from devtools import FakeBinance, FakeKraken
from streaming.feeds.base import DataSource, PriceFeedProvider
from streaming.feeds.binance import BinancePriceFeed
from streaming.feeds.kraken import KrakenPriceFeed
from streaming.feeds.manager import default_feed_factory
from streaming.manager import StreamManager
from streaming.stream_types import StreamStatus

from .netutil import (
    FAST,
    SYMBOLS,
    assert_no_task_leak,
    assert_stop_leaks_no_task,
    failover_manager,
    kill_and_restart,
    next_updates,
    price_of,
    serving,
    started_feeds,
    tasks_now,
    wait_until,
)

pytestmark = pytest.mark.timeout(30)


@pytest.fixture
async def fake():
    async with FakeKraken(seed=5, heartbeat_interval=0.1) as server:
        yield server


@pytest.fixture
async def feed_for(fake):
    async with started_feeds(KrakenPriceFeed, fake.endpoint) as make:
        yield make


async def test_subscribe_snapshot_and_exact_updates(fake, feed_for):
    feed, got = await feed_for(["BTC", "ETH"])
    await wait_until(lambda: feed.confirmed == {"BTC", "ETH"})
    assert fake.received[0] == {
        "method": "subscribe",
        "params": {"channel": "ticker", "symbol": ["BTC/USD", "ETH/USD"]},
        "req_id": 1,
    }
    assert fake.subscriptions == [["BTC/USD", "ETH/USD"]]
    # the snapshots after the acks, with the fake's 12-decimal start prices
    await price_of(got, "BTC", "67250.456789012345")
    await fake.emit("BTC", price=Decimal("97123.456789012345"))
    update = await price_of(got, "BTC", "97123.456789012345")
    assert update.source is DataSource.KRAKEN
    assert isinstance(update.volume_24h, Decimal)
    assert update.timestamp.tzinfo is not None
    assert feed.system_status == "online"
    assert feed.errors == 0


async def test_heartbeats_prove_liveness(fake, feed_for):
    feed, got = await feed_for(["BTC"])
    await wait_until(lambda: "BTC" in feed.last_seen)
    seen = feed.last_seen["BTC"]
    await wait_until(lambda: feed.last_seen["BTC"] > seen)  # no price sent meanwhile
    assert feed.errors == 0


async def test_stream_registered_in_the_manager(fake):
    manager = StreamManager()
    await manager.start()
    feed = KrakenPriceFeed(["BTC"], url=fake.endpoint, stream_manager=manager, **FAST)
    await feed.start()
    try:
        await wait_until(lambda: feed.connected)
        assert manager.get_stream_status("kraken-0") is StreamStatus.CONNECTED
        assert manager.get_provider("kraken-0") == "kraken"
        (info,) = manager.streams_info()
        assert info["provider"] == "kraken" and info["url"] == fake.endpoint
    finally:
        await feed.stop()
        await manager.stop()
    assert manager.get_stream_status("kraken-0") is None


async def test_add_and_remove_symbol_while_running(fake, feed_for):
    feed, got = await feed_for(["BTC"])
    await wait_until(lambda: feed.confirmed == {"BTC"})
    feed.add_symbol("SOL")
    await wait_until(lambda: feed.confirmed == {"BTC", "SOL"})
    await fake.emit("SOL", price=Decimal("152.123456789012"))
    await price_of(got, "SOL", "152.123456789012")
    feed.remove_symbol("SOL")
    await wait_until(lambda: fake.subscriptions == [["BTC/USD"]])
    assert feed.confirmed == {"BTC"}
    assert fake.received[-1]["method"] == "unsubscribe"
    assert fake.received[-1]["params"]["symbol"] == ["SOL/USD"]


async def test_unknown_pair_refused_others_keep_streaming(fake, feed_for):
    feed, got = await feed_for(["BTC", "ZZZ"])
    await wait_until(lambda: feed.unsupported == {"ZZZ"})
    assert feed.symbols == ["BTC"]
    assert feed.status_info()["unsupported"] == ["ZZZ"]
    await wait_until(lambda: feed.confirmed == {"BTC"})
    await fake.emit("BTC", price=Decimal("8.5"))
    await price_of(got, "BTC", "8.5")


async def test_unknown_pair_added_while_running(fake, feed_for):
    feed, got = await feed_for(["BTC"])
    await wait_until(lambda: feed.confirmed == {"BTC"})
    feed.add_symbol("ZZZ")
    await wait_until(lambda: feed.unsupported == {"ZZZ"})
    assert feed.connected and feed.symbols == ["BTC"]


async def test_drop_resubscribes_and_prices_resume(fake, feed_for):
    feed, got = await feed_for(["BTC"])
    await wait_until(lambda: feed.confirmed == {"BTC"})
    feed.add_symbol("ETH")
    await wait_until(lambda: feed.confirmed == {"BTC", "ETH"})
    await fake.drop()
    await wait_until(lambda: fake.connections_total == 2 and fake.clients == 1)
    await wait_until(lambda: fake.subscriptions == [["BTC/USD", "ETH/USD"]])
    await wait_until(lambda: feed.confirmed == {"BTC", "ETH"})
    assert fake.subscribe_requests == 3  # first, the added ETH, after the drop
    await fake.emit("ETH", price=Decimal("3000.000000000001"))
    await price_of(got, "ETH", "3000.000000000001")


async def test_killed_and_restarted_server(fake, feed_for):
    feed, got = await feed_for(["BTC"])
    await fake.wait_clients(1)
    await kill_and_restart(fake, feed, 0.5)
    await fake.wait_clients(1)
    await wait_until(lambda: fake.subscriptions == [["BTC/USD"]])
    await fake.emit("BTC", price=Decimal("9.75"))
    await price_of(got, "BTC", "9.75")


async def test_stop_leaks_no_task(fake):
    await assert_stop_leaks_no_task(fake, KrakenPriceFeed)


# failover with Binance primary --------------------------------------------------


async def test_binance_primary_fails_over_to_kraken_and_back(fake):
    before = tasks_now()
    async with FakeBinance(seed=6) as binance:
        binance.start_ticking(SYMBOLS, 20)
        fake.start_ticking(SYMBOLS, 20)
        manager, got = failover_manager(
            BinancePriceFeed(SYMBOLS, url=binance.url, **FAST),
            KrakenPriceFeed(SYMBOLS, url=fake.endpoint, **FAST),
        )
        await manager.start()
        try:
            await wait_until(lambda: serving(manager, "binance") == SYMBOLS)
            await binance.stop()
            await wait_until(lambda: serving(manager, "kraken") == SYMBOLS, 3)
            fresh = await next_updates(got)
            assert {u.source for u in fresh} == {DataSource.KRAKEN}
            assert all(isinstance(u.price, Decimal) for u in fresh)

            await binance.start()
            await wait_until(lambda: serving(manager, "binance") == SYMBOLS, 5)
            fresh = await next_updates(got)
            assert {u.source for u in fresh} == {DataSource.BINANCE}
        finally:
            await manager.stop()
            fake.stop_ticking()
    await assert_no_task_leak(before)


def test_default_factory_uses_the_kraken_setting(settings):
    settings.KRAKEN_WS_URL = "ws://127.0.0.1:9445/v2"
    feed = default_feed_factory(PriceFeedProvider.KRAKEN, ["BTC"])
    assert isinstance(feed, KrakenPriceFeed)
    assert feed.url == "ws://127.0.0.1:9445/v2"
