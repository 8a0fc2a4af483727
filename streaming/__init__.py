"""Generic real-time layer: exchange streams, price feeds, event bus, delivery.

This package knows nothing of portfolios. Public names of the streaming API
specification are re-exported here lazily (PEP 562) so that importing the
Django app does not pull in the network stack.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS: dict[str, str] = {
    # exceptions
    "StreamingError": "streaming.exceptions",
    "ConnectionError": "streaming.exceptions",
    "DataError": "streaming.exceptions",
    "ConfigurationError": "streaming.exceptions",
    # outbound connections
    "StreamConfig": "streaming.stream_types",
    "StreamStatus": "streaming.stream_types",
    "StreamMetrics": "streaming.stream_types",
    "StreamConnection": "streaming.connection",
    "StreamManager": "streaming.manager",
    # event bus
    "EventType": "streaming.events",
    "StreamEvent": "streaming.events",
    "EventFilter": "streaming.events",
    "EventHandler": "streaming.events",
    "StreamEventBus": "streaming.bus",
    # price feeds
    "PriceFeedProvider": "streaming.feeds.providers",
    "DataSource": "streaming.feeds.providers",
    "PriceUpdate": "streaming.feeds.base",
    "BasePriceFeed": "streaming.feeds.base",
    "MockPriceFeed": "streaming.feeds.mock",
    "BinancePriceFeed": "streaming.feeds.binance",
    "CoinbasePriceFeed": "streaming.feeds.coinbase",
    "KrakenPriceFeed": "streaming.feeds.kraken",
    "PriceFeedManager": "streaming.feeds.manager",
    # WebSocket delivery
    "MessageType": "streaming.delivery.messages",
    "WebSocketMessage": "streaming.delivery.messages",
    "ConnectionManager": "streaming.delivery.hub",
    "WebSocketServer": "streaming.delivery.server",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'streaming' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return __all__
