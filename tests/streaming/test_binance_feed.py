"""BinancePriceFeed's subscription bookkeeping, driven with a fake connection.

The real socket path (streaming.connection) is tested end to end elsewhere; here
shards get a stand-in with the same small contract.
"""

from __future__ import annotations

import asyncio
import json

import pytest

from streaming.exceptions import ConfigurationError
from streaming.feeds.base import FeedStatus
from streaming.feeds.binance import BinancePriceFeed, _Shard

from .conftest import load_fixture

TICKER = load_fixture("binance_ticker.json")
CONTROL = load_fixture("binance_control_messages.json")


class FakeConnection:
    def __init__(self) -> None:
        self.sent: list[dict] = []
        self.reconnects = 0

    async def send_message(self, message: dict) -> None:
        self.sent.append(message)

    async def reconnect(self) -> None:
        self.reconnects += 1

    async def disconnect(self) -> None:
        pass


def running_feed(symbols: list[str], max_streams: int = 1024):
    feed = BinancePriceFeed(symbols, max_streams_per_connection=max_streams)
    streams = [f"{s.lower()}usdt@ticker" for s in symbols]
    shard = _Shard("binance-0", tuple(streams), list(streams), FakeConnection())
    feed._shards.append(shard)
    feed._running = True
    feed._on_status(shard, FeedStatus.CONNECTED)
    return feed, shard


def test_unsupported_symbol_is_reported():
    with pytest.raises(ConfigurationError, match="USDT"):
        BinancePriceFeed(["BTC", "USDT"])


async def test_add_symbols_are_batched_into_one_subscribe():
    feed, shard = running_feed(["BTC"])
    feed.add_symbol("ETH")
    feed.add_symbol("SOL")
    feed.add_symbol("ETH")
    await asyncio.sleep(0.01)
    assert shard.connection.sent == [
        {"method": "SUBSCRIBE", "params": ["ethusdt@ticker", "solusdt@ticker"], "id": 1}
    ]
    await feed._on_frame(shard, {"result": None, "id": 1})
    assert feed._pending == {} and feed.failed_requests == 0
    feed.remove_symbol("BTC")
    await asyncio.sleep(0.01)
    assert shard.connection.sent[-1] == {
        "method": "UNSUBSCRIBE",
        "params": ["btcusdt@ticker"],
        "id": 2,
    }


async def test_failed_request_is_counted():
    feed, shard = running_feed(["BTC"])
    feed.add_symbol("ETH")
    await asyncio.sleep(0.01)
    await feed._on_frame(shard, {"error": {"code": 2, "msg": "Invalid"}, "id": 1})
    assert feed.failed_requests == 1 and feed.errors == 1


def test_resubscribe_reconciles_url_streams():
    feed, shard = running_feed(["BTC", "ETH"])
    shard.streams.remove("btcusdt@ticker")
    shard.streams.append("solusdt@ticker")
    messages = feed._resubscribe(shard)
    assert [(m["method"], m.get("params")) for m in messages] == [
        ("SUBSCRIBE", ["solusdt@ticker"]),
        ("UNSUBSCRIBE", ["btcusdt@ticker"]),
        ("LIST_SUBSCRIPTIONS", None),  # checks the URL streams are live
    ]
    shard.streams[:] = list(shard.url_streams)
    assert [m["method"] for m in feed._resubscribe(shard)] == ["LIST_SUBSCRIPTIONS"]


async def test_frames_dispatch_count_errors_and_reconnect_on_shutdown():
    feed, shard = running_feed(["BTC"])
    got = []
    feed.add_handler(got.append)
    await feed._on_frame(shard, TICKER["combined_stream_frame"])
    await feed._on_frame(shard, CONTROL["error_invalid_json"])
    await feed._on_frame(shard, {"stream": "x", "data": {"e": "24hrTicker"}})
    eth = json.loads(
        json.dumps(TICKER["raw_stream_frame"]).replace("BTCUSDT", "ETHUSDT")
    )
    await feed._on_frame(shard, eth)  # not tracked: ignored
    await feed._on_frame(shard, CONTROL["server_shutdown_combined"])
    await asyncio.sleep(0.01)
    assert len(got) == 1 and got[0].symbol == "BTC"
    assert feed.errors == 2
    assert shard.connection.reconnects == 1


async def test_new_shard_when_connection_is_full(monkeypatch):
    feed, shard = running_feed(["BTC"], max_streams=1)
    opened = []

    async def fake_open(new_shard):
        opened.append(new_shard)

    monkeypatch.setattr(feed, "_connect_shard", fake_open)
    feed.add_symbol("ETH")
    feed.add_symbol("SOL")
    await asyncio.sleep(0.01)
    assert len(opened) == 2 and shard.connection.sent == []
    assert [s.streams for s in feed._shards] == [
        ["btcusdt@ticker"],
        ["ethusdt@ticker"],
        ["solusdt@ticker"],
    ]
    # a new shard's URL carries no streams: its factory subscribes them all
    assert feed._resubscribe(feed._shards[1]) == [
        {"method": "SUBSCRIBE", "params": ["ethusdt@ticker"], "id": 1}
    ]


def test_status_aggregates_shards():
    feed, shard = running_feed(["BTC"])
    assert feed.connected
    feed._on_status(shard, FeedStatus.RECONNECTING)
    assert feed.status is FeedStatus.RECONNECTING
    assert feed.status_info()["connections"] == {"binance-0": "reconnecting"}
