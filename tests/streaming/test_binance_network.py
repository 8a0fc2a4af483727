"""BinancePriceFeed end to end over real sockets against FakeBinance on 127.0.0.1."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from devtools import FakeBinance
from streaming.feeds.base import DataSource
from streaming.feeds.binance import BinancePriceFeed, stream_url

from .netutil import (
    assert_stop_leaks_no_task,
    kill_and_restart,
    price_of,
    started_feeds,
    wait_until,
)

pytestmark = pytest.mark.timeout(20)


@pytest.fixture
async def fake():
    async with FakeBinance(seed=1) as server:
        yield server


@pytest.fixture
async def feed_for(fake):
    async with started_feeds(BinancePriceFeed, fake.endpoint) as make:
        yield make


def test_url_base_semantics():
    assert stream_url("wss://stream.binance.com:9443") == (
        "wss://stream.binance.com:9443/stream"
    )
    assert stream_url("ws://127.0.0.1:9443/") == "ws://127.0.0.1:9443/stream"
    assert stream_url("ws://h:1/stream") == "ws://h:1/stream"


async def test_handshake_and_exact_prices(fake, feed_for):
    feed, got = await feed_for(["BTC", "ETH"])
    await fake.wait_clients(1)
    assert fake.subscriptions == [["btcusdt@ticker", "ethusdt@ticker"]]
    await wait_until(lambda: {"method": "LIST_SUBSCRIPTIONS", "id": 1} in fake.received)
    await wait_until(lambda: not feed._pending)
    data = await fake.emit(
        "BTC",
        price=Decimal("67000.12"),
        volume=Decimal("123.45"),
        open_price=Decimal("66000"),
    )
    update = await price_of(got, "BTC", "67000.12")
    assert update.price == Decimal("67000.12") and str(update.price) == data["c"]
    assert update.volume_24h == Decimal("123.45")
    assert update.change_24h == Decimal("1000.12")
    assert update.change_percent_24h == Decimal("1.515")
    assert update.timestamp == datetime(1970, 1, 1, tzinfo=UTC) + timedelta(
        milliseconds=data["E"]
    )
    assert abs(update.timestamp - datetime.now(UTC)) < timedelta(seconds=2)
    assert update.source is DataSource.BINANCE
    assert feed.connected and feed.errors == 0 and feed.unsupported == set()


async def test_add_and_remove_symbol_while_running(fake, feed_for):
    feed, got = await feed_for(["BTC", "ETH"])
    await fake.wait_clients(1)
    feed.add_symbol("SOL")
    await wait_until(lambda: "solusdt@ticker" in fake.subscriptions[0])
    subscribe = next(m for m in fake.received if m.get("method") == "SUBSCRIBE")
    assert subscribe["params"] == ["solusdt@ticker"] and isinstance(
        subscribe["id"], int
    )
    await wait_until(lambda: not feed._pending)  # the {"result": null} reply matched
    assert feed.failed_requests == 0
    await fake.emit("SOL", price=Decimal("151.5"))
    await price_of(got, "SOL", "151.5")
    feed.remove_symbol("ETH")
    await wait_until(lambda: "ethusdt@ticker" not in fake.subscriptions[0])
    unsub = next(m for m in fake.received if m.get("method") == "UNSUBSCRIBE")
    assert unsub["params"] == ["ethusdt@ticker"] and unsub["id"] > subscribe["id"]
    await wait_until(lambda: not feed._pending)
    assert feed.failed_requests == 0 and feed.errors == 0


async def test_unlisted_symbol_is_reported(fake, feed_for):
    feed, got = await feed_for(["BTC", "ZZZ"])  # ZZZ in the URL: Binance stays quiet
    await wait_until(lambda: feed.unsupported == {"ZZZ"})
    feed.add_symbol("QQQ")
    feed.add_symbol("SOL")  # same batch as QQQ: Binance refuses the whole request
    await wait_until(lambda: feed.unsupported == {"ZZZ", "QQQ"})
    await wait_until(lambda: "solusdt@ticker" in fake.subscriptions[0])
    assert feed.symbols == ["BTC", "SOL"]
    assert feed.failed_requests == 1 and feed.errors == 1
    assert feed.status_info()["unsupported"] == ["QQQ", "ZZZ"]
    await fake.emit("SOL", price=Decimal("150"))
    await price_of(got, "SOL", "150")


async def test_error_frame_counted_feed_keeps_running(fake, feed_for):
    feed, got = await feed_for(["BTC"])
    await fake.wait_clients(1)
    await fake.broadcast({"code": 3, "msg": "Invalid JSON: expected value"})
    await fake.broadcast({"stream": "btcusdt@ticker", "data": {"e": "24hrTicker"}})
    await wait_until(lambda: feed.errors == 2)
    await fake.emit("BTC", price=Decimal("1.5"))
    await price_of(got, "BTC", "1.5")
    assert feed.connected


async def test_drop_resubscribes_and_prices_resume(fake, feed_for):
    feed, got = await feed_for(["BTC"])
    await fake.wait_clients(1)
    feed.add_symbol("ETH")
    await wait_until(lambda: "ethusdt@ticker" in fake.subscriptions[0])
    await fake.drop()
    await wait_until(lambda: fake.connections_total == 2 and fake.clients == 1)
    # the URL still names BTC; ETH comes back with a reconciling SUBSCRIBE
    await wait_until(
        lambda: fake.subscriptions == [["btcusdt@ticker", "ethusdt@ticker"]]
    )
    await fake.emit("ETH", price=Decimal("3000.01"))
    await price_of(got, "ETH", "3000.01")


async def test_server_shutdown_reconnects(fake, feed_for):
    feed, got = await feed_for(["BTC"])
    await fake.wait_clients(1)
    await fake.server_shutdown()
    await wait_until(lambda: fake.connections_total == 2 and fake.clients == 1)
    await fake.emit("BTC", price=Decimal("42"))
    await price_of(got, "BTC", "42")
    assert feed.connected


async def test_connection_age_limit_reconnects(fake, feed_for):
    feed, got = await feed_for(["BTC"], max_connection_age=0.3)
    await wait_until(lambda: fake.connections_total >= 3)
    await wait_until(lambda: fake.clients == 1)
    await fake.emit("BTC", price=Decimal("43"))
    await price_of(got, "BTC", "43")


async def test_killed_and_restarted_server(fake, feed_for):
    feed, got = await feed_for(["BTC"])
    await fake.wait_clients(1)
    port = fake.port
    # longer than StreamConfig's default 5 attempts at these intervals
    await kill_and_restart(fake, feed, 1.5)
    assert fake.port == port
    await fake.wait_clients(1)
    await fake.emit("BTC", price=Decimal("44"))
    await price_of(got, "BTC", "44")


async def test_subscribes_stay_under_rate_limit(fake, feed_for):
    feed, got = await feed_for(["BTC"])
    await fake.wait_clients(1)
    for symbol in ["ETH", "SOL", "ADA", "XRP", "DOGE", "DOT"]:
        feed.add_symbol(symbol)
        await asyncio.sleep(0.01)  # separate loop turns: separate requests
    await wait_until(lambda: len(fake.subscriptions[0]) == 7, timeout=5)
    assert fake.disconnected_for_rate == 0 and fake.connections_total == 1
    assert fake.subscribe_requests >= 3


async def test_shards_over_stream_limit(fake, feed_for):
    feed, got = await feed_for(["BTC", "ETH", "SOL"], max_streams_per_connection=2)
    await fake.wait_clients(2)
    assert sorted(fake.subscriptions) == [
        ["btcusdt@ticker", "ethusdt@ticker"],
        ["solusdt@ticker"],
    ]
    feed.add_symbol("ADA")
    await wait_until(lambda: sorted(map(len, fake.subscriptions)) == [2, 2])


async def test_stop_leaks_no_task(fake):
    await assert_stop_leaks_no_task(fake, BinancePriceFeed, drop=True)


# the fake itself --------------------------------------------------------------


async def test_fake_enforces_message_rate(fake):
    async with connect(f"{fake.url}/ws") as ws:
        with pytest.raises(ConnectionClosed) as closed:
            for i in range(10):
                await ws.send(json.dumps({"method": "LIST_SUBSCRIPTIONS", "id": i}))
            async with asyncio.timeout(3):
                while True:
                    await ws.recv()
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 1008
    assert fake.disconnected_for_rate == 1


async def test_fake_requests_and_errors(fake):
    async with connect(f"{fake.url}/ws/btcusdt@ticker") as ws:
        await ws.send('{"method": "LIST_SUBSCRIPTIONS", "id": 7}')
        assert json.loads(await ws.recv()) == {"result": ["btcusdt@ticker"], "id": 7}
        await ws.send('{"method": "SUBSCRIBE", "params": ["foousdt@ticker"], "id": 8}')
        reply = json.loads(await ws.recv())
        assert reply["code"] == 2 and reply["id"] == 8
        assert reply["msg"].startswith("Invalid request")
        await ws.send("not json")
        assert json.loads(await ws.recv())["code"] == 3
        data = await fake.emit("BTC", price=Decimal("5"))
        assert json.loads(await ws.recv()) == data  # /ws: raw payload, no envelope
    fake.MAX_STREAMS = 1
    async with connect(f"{fake.url}/stream?streams=btcusdt@ticker") as ws:
        await ws.send('{"method": "SUBSCRIBE", "params": ["ethusdt@ticker"], "id": 1}')
        assert "more than 1 streams" in json.loads(await ws.recv())["msg"]
