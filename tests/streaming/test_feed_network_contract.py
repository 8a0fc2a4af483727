"""The feeds' start/stop register their sockets with the StreamManager.

The real StreamManager is used; only the socket class it builds is a stand-in
recording what the feeds configure and send, so no network is needed.
"""

from __future__ import annotations

import asyncio

import pytest

import streaming.manager
from streaming.feeds.binance import BinancePriceFeed
from streaming.feeds.coinbase import CoinbasePriceFeed
from streaming.manager import StreamManager
from streaming.stream_types import StreamStatus


class StreamConnection:
    made: list[StreamConnection] = []

    def __init__(self, config, manager, *, max_connection_age=None, **options):
        self.config = config
        self.manager = manager
        self.status = StreamStatus.DISCONNECTED
        self.max_connection_age = max_connection_age
        self.handlers = []
        self.listeners = []
        self.factory = None
        self.sent = []
        StreamConnection.made.append(self)

    def add_handler(self, handler):
        self.handlers.append(handler)

    def set_subscription_factory(self, factory):
        self.factory = factory

    def add_status_listener(self, listener):
        self.listeners.append(listener)

    def start(self):
        pass

    async def connect(self):
        self.sent.extend(self.factory())
        for listener in self.listeners:
            listener(StreamStatus.CONNECTED)
        return True

    async def disconnect(self):
        for listener in self.listeners:
            listener(StreamStatus.DISCONNECTED)

    async def send_message(self, message):
        self.sent.append(message)


@pytest.fixture(autouse=True)
def fake_sockets(monkeypatch):
    monkeypatch.setattr(streaming.manager, "StreamConnection", StreamConnection)
    StreamConnection.made = []


async def test_binance_start_uses_combined_url_and_limits():
    feed = BinancePriceFeed(["BTC", "ETH"], url="ws://127.0.0.1:1/stream")
    await feed.start()
    (conn,) = StreamConnection.made
    assert conn.config.url == (
        "ws://127.0.0.1:1/stream?streams=btcusdt@ticker/ethusdt@ticker"
    )
    assert conn.config.rate_limit == 4  # one below Binance's 5/s
    assert conn.max_connection_age < 24 * 3600
    # the URL carries the streams; only check they are live
    assert conn.sent == [{"method": "LIST_SUBSCRIPTIONS", "id": 1}]
    assert feed.connected
    feed.add_symbol("SOL")
    await asyncio.sleep(0.01)
    assert conn.sent[1:] == [
        {"method": "SUBSCRIBE", "params": ["solusdt@ticker"], "id": 2}
    ]
    await feed.stop()
    assert not feed.connected


async def test_feeds_register_every_socket_with_the_given_manager():
    manager = StreamManager()
    await manager.start()
    binance = BinancePriceFeed(
        ["BTC", "ETH", "SOL"], max_streams_per_connection=2, stream_manager=manager
    )
    coinbase = CoinbasePriceFeed(["BTC"], stream_manager=manager)
    await binance.start()
    await coinbase.start()
    assert sorted(manager.get_all_status()) == ["binance-0", "binance-1", "coinbase-0"]
    assert [c.manager for c in StreamConnection.made] == [manager] * 3
    assert manager.get_provider("binance-1") == "binance"
    await binance.stop()
    assert sorted(manager.get_all_status()) == ["coinbase-0"]
    await coinbase.stop()
    assert manager.get_all_status() == {}
    await manager.stop()


async def test_binance_shards_beyond_stream_limit():
    feed = BinancePriceFeed(["BTC", "ETH", "SOL"], max_streams_per_connection=2)
    await feed.start()
    assert [c.config.symbols for c in StreamConnection.made] == [
        ["btcusdt@ticker", "ethusdt@ticker"],
        ["solusdt@ticker"],
    ]
    await feed.stop()


async def test_coinbase_start_subscribes_on_connect():
    feed = CoinbasePriceFeed(["BTC", "ETH"], url="ws://127.0.0.1:1")
    await feed.start()
    (conn,) = StreamConnection.made
    assert conn.config.url == "ws://127.0.0.1:1"
    assert conn.sent == [
        {
            "type": "subscribe",
            "product_ids": ["BTC-USD", "ETH-USD"],
            "channels": ["ticker", "heartbeat"],
        }
    ]
    assert feed.connected
    feed.add_symbol("SOL")
    feed.remove_symbol("BTC")
    await asyncio.sleep(0.01)
    assert conn.sent[1:] == [
        {
            "type": "subscribe",
            "product_ids": ["SOL-USD"],
            "channels": ["ticker", "heartbeat"],
        },
        {
            "type": "unsubscribe",
            "product_ids": ["BTC-USD"],
            "channels": ["ticker", "heartbeat"],
        },
    ]
    await feed.stop()
    assert feed.status.value == "disconnected"
