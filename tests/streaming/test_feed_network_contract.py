"""The feeds' start/stop against a stand-in for the streaming.connection contract.

The real StreamConnection lives in another branch; these stand-ins check only
that the feeds build configs, register callbacks and subscribe as agreed.
"""

from __future__ import annotations

import asyncio
import sys
import types
from dataclasses import dataclass, field
from enum import Enum

import pytest

from streaming.feeds.binance import BinancePriceFeed
from streaming.feeds.coinbase import CoinbasePriceFeed


class StreamStatus(Enum):
    DISCONNECTED = "disconnected"
    CONNECTED = "connected"
    RECONNECTING = "reconnecting"


@dataclass
class StreamConfig:
    stream_id: str
    url: str
    symbols: list = field(default_factory=list)
    reconnect_attempts: int = 5
    reconnect_delay: float = 1.0
    max_reconnect_delay: float = 60.0
    heartbeat_interval: float = 30.0
    buffer_size: int = 1000
    rate_limit: int | None = None
    headers: dict = field(default_factory=dict)
    params: dict = field(default_factory=dict)


class StreamConnection:
    made: list[StreamConnection] = []

    def __init__(self, config, manager, *, max_connection_age=None):
        self.config = config
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


class StreamManager:
    def __init__(self, max_connections=100):
        self.started = False

    async def start(self):
        self.started = True

    async def stop(self):
        self.started = False


@pytest.fixture(autouse=True)
def fake_modules(monkeypatch):
    connection = types.ModuleType("streaming.connection")
    connection.StreamConfig = StreamConfig
    connection.StreamConnection = StreamConnection
    connection.StreamStatus = StreamStatus
    manager = types.ModuleType("streaming.manager")
    manager.StreamManager = StreamManager
    monkeypatch.setitem(sys.modules, "streaming.connection", connection)
    monkeypatch.setitem(sys.modules, "streaming.manager", manager)
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
