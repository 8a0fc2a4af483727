"""Names of price providers, provenance labels and feed states (no behaviour).

A module of its own so the symbol registry and the feeds can both name a
provider without importing each other.
"""

from __future__ import annotations

from enum import Enum

__all__ = ["PriceFeedProvider", "DataSource", "FeedStatus", "REAL_PROVIDERS"]


class PriceFeedProvider(Enum):
    """Where a feed gets its prices from (the spec's provider names)."""

    BINANCE = "binance"
    COINBASE = "coinbase"
    KRAKEN = "kraken"
    MOCK = "mock"


class DataSource(Enum):
    """Provenance stamped on every price so users can see where it came from."""

    BINANCE = "binance"
    COINBASE = "coinbase"
    KRAKEN = "kraken"
    MOCK = "mock"
    MANUAL = "manual"


class FeedStatus(Enum):
    """Feed connection state; values mirror ``streaming.stream_types.StreamStatus``."""

    DISCONNECTED = "disconnected"
    CONNECTING = "connecting"
    CONNECTED = "connected"
    RECONNECTING = "reconnecting"
    ERROR = "error"


#: Providers that are real markets (everything but the simulation).
REAL_PROVIDERS = frozenset(
    {PriceFeedProvider.BINANCE, PriceFeedProvider.COINBASE, PriceFeedProvider.KRAKEN}
)
