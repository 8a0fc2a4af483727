"""CoinbasePriceFeed end to end over real sockets against FakeCoinbase on 127.0.0.1."""

from __future__ import annotations

import asyncio
import json
from datetime import datetime
from decimal import Decimal

import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from devtools import FakeCoinbase
from streaming.feeds.base import DataSource
from streaming.feeds.coinbase import CoinbasePriceFeed

from .conftest import load_fixture
from .netutil import (
    assert_stop_leaks_no_task,
    kill_and_restart,
    price_of,
    started_feeds,
    wait_until,
)

pytestmark = pytest.mark.timeout(20)

TICKER_FIELDS = set(
    load_fixture("coinbase_ticker.json")["exchange_ws_feed_ticker_2022"]
)


@pytest.fixture
async def fake():
    async with FakeCoinbase(seed=2, heartbeat_interval=0.1) as server:
        yield server


@pytest.fixture
async def feed_for(fake):
    async with started_feeds(CoinbasePriceFeed, fake.endpoint) as make:
        yield make


async def test_handshake_and_exact_prices(fake, feed_for):
    feed, got = await feed_for(["BTC", "ETH"])
    await wait_until(lambda: feed.confirmed == {"BTC", "ETH"})
    assert fake.received[0] == {
        "type": "subscribe",
        "product_ids": ["BTC-USD", "ETH-USD"],
        "channels": ["ticker", "heartbeat"],
    }
    assert fake.subscriptions == [
        {"ticker": ["BTC-USD", "ETH-USD"], "heartbeat": ["BTC-USD", "ETH-USD"]}
    ]
    frame = await fake.emit(
        "ETH",
        price=Decimal("1285.22"),
        volume=Decimal("245532.79269678"),
        open_price=Decimal("1310.79"),
    )
    assert set(frame) == TICKER_FIELDS
    update = await price_of(got, "ETH", "1285.22")
    assert update.volume_24h == Decimal("245532.79269678")
    assert update.change_24h == Decimal("-25.57")
    assert update.change_percent_24h == Decimal("-1.9507")
    assert update.timestamp == datetime.fromisoformat(frame["time"])
    assert update.timestamp.microsecond == int(frame["time"][20:26])
    assert update.source is DataSource.COINBASE
    assert feed.errors == 0 and feed.out_of_order == 0


async def test_heartbeats_prove_liveness(fake, feed_for):
    feed, got = await feed_for(["BTC"])
    await wait_until(lambda: "BTC" in feed.last_seen)
    first = feed.last_seen["BTC"]
    await wait_until(lambda: feed.last_seen["BTC"] > first)
    assert got == []  # heartbeats carry no price


async def test_out_of_order_dropped_and_gaps_accepted(fake, feed_for):
    feed, got = await feed_for(["BTC"])
    await wait_until(lambda: feed.confirmed == {"BTC"})
    first = await fake.emit("BTC", price=Decimal("100"))
    await price_of(got, "BTC", "100")
    await fake.emit_out_of_order("BTC", price=Decimal("99"))
    await fake.emit("BTC", price=Decimal("101"), sequence=first["sequence"] + 50)
    await price_of(got, "BTC", "101")
    assert [u.price for u in got] == [Decimal("100"), Decimal("101")]
    assert feed.out_of_order == 1 and feed.errors == 0
    assert feed.last_price["BTC"].price == Decimal("101")


async def test_add_and_remove_symbol_while_running(fake, feed_for):
    feed, got = await feed_for(["BTC"])
    await wait_until(lambda: feed.confirmed == {"BTC"})
    feed.add_symbol("SOL")
    await wait_until(lambda: feed.confirmed == {"BTC", "SOL"})
    assert fake.received[-1]["product_ids"] == ["SOL-USD"]
    await fake.emit("SOL", price=Decimal("150.25"))
    await price_of(got, "SOL", "150.25")
    feed.remove_symbol("BTC")
    await wait_until(
        lambda: (
            fake.subscriptions == [{"ticker": ["SOL-USD"], "heartbeat": ["SOL-USD"]}]
        )
    )
    assert fake.received[-1] == {
        "type": "unsubscribe",
        "product_ids": ["BTC-USD"],
        "channels": ["ticker", "heartbeat"],
    }
    await fake.emit("BTC", price=Decimal("1"))
    await fake.emit("SOL", price=Decimal("151"))
    await price_of(got, "SOL", "151")
    assert feed.confirmed == {"SOL"} and all(u.symbol == "SOL" for u in got)


async def test_unknown_product_error_reported_feed_keeps_running(fake, feed_for):
    feed, got = await feed_for(["BTC"])
    await wait_until(lambda: feed.confirmed == {"BTC"})
    feed.add_symbol("ZZZ")
    await wait_until(lambda: feed.unsupported == {"ZZZ"})
    assert feed.errors == 1 and feed.symbols == ["BTC"]
    assert feed.status_info()["unsupported"] == ["ZZZ"]
    await fake.broadcast({"type": "error", "message": "boom", "reason": "test"})
    await wait_until(lambda: feed.errors == 2)
    await fake.emit("BTC", price=Decimal("7"))
    await price_of(got, "BTC", "7")
    assert feed.connected


async def test_unknown_product_at_start(fake, feed_for):
    feed, got = await feed_for(["BTC", "ZZZ"])
    await wait_until(lambda: feed.unsupported == {"ZZZ"})
    await wait_until(lambda: feed.confirmed == {"BTC"})
    await fake.emit("BTC", price=Decimal("8"))
    await price_of(got, "BTC", "8")


async def test_drop_resubscribes_and_prices_resume(fake, feed_for):
    feed, got = await feed_for(["BTC"])
    await wait_until(lambda: feed.confirmed == {"BTC"})
    feed.add_symbol("ETH")
    await wait_until(lambda: feed.confirmed == {"BTC", "ETH"})
    await fake.drop()
    await wait_until(lambda: fake.connections_total == 2 and fake.clients == 1)
    await wait_until(
        lambda: (
            fake.subscriptions
            == [{"ticker": ["BTC-USD", "ETH-USD"], "heartbeat": ["BTC-USD", "ETH-USD"]}]
        )
    )
    await fake.emit("ETH", price=Decimal("3000.5"))
    await price_of(got, "ETH", "3000.5")


async def test_killed_and_restarted_server(fake, feed_for):
    feed, got = await feed_for(["BTC"])
    await fake.wait_clients(1)
    port = fake.port
    await kill_and_restart(fake, feed, 1.5)  # > StreamConfig's default 5 attempts
    assert fake.port == port
    await fake.wait_clients(1)
    await wait_until(lambda: fake.subscriptions and fake.subscriptions[0])
    await fake.emit("BTC", price=Decimal("9"))
    await price_of(got, "BTC", "9")


async def test_stop_leaks_no_task(fake):
    await assert_stop_leaks_no_task(fake, CoinbasePriceFeed)


# the fake itself --------------------------------------------------------------


async def test_fake_closes_socket_without_subscribe():
    async with FakeCoinbase(subscribe_timeout=0.2) as fake:
        async with connect(fake.url) as ws:
            with pytest.raises(ConnectionClosed):
                async with asyncio.timeout(3):
                    await ws.recv()
        assert fake.closed_for_idle == 1


async def test_fake_sequences_increase_and_skip(fake):
    seqs = [(await fake.emit("BTC"))["sequence"] for _ in range(40)]
    steps = {b - a for a, b in zip(seqs, seqs[1:], strict=False)}
    assert min(steps) >= 1 and max(steps) > 1


async def test_fake_rejects_bad_requests(fake):
    async with connect(fake.url) as ws:
        await ws.send(json.dumps({"type": "subscribe", "channels": ["level9"]}))
        reply = json.loads(await ws.recv())
        assert reply["type"] == "error" and "level9" in reply["reason"]
        await ws.send('{"type": "hello"}')
        assert json.loads(await ws.recv())["type"] == "error"
