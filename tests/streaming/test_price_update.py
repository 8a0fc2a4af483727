from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from streaming.feeds.base import DataSource, PriceFeedProvider, PriceUpdate


def test_enum_values():
    values = [p.value for p in PriceFeedProvider]
    assert values == ["binance", "coinbase", "kraken", "mock"]
    sources = {s.value for s in DataSource}
    assert sources == {"binance", "coinbase", "kraken", "mock", "manual"}


def test_defaults():
    update = PriceUpdate(symbol="BTC", price=Decimal("1"))
    assert update.source is DataSource.MANUAL
    assert update.timestamp.tzinfo is not None
    assert update.volume_24h is None and update.change_percent_24h is None


def test_slots():
    update = PriceUpdate(symbol="BTC", price=Decimal("1"))
    with pytest.raises(AttributeError):
        update.extra = 1  # type: ignore[attr-defined]


def test_to_dict_is_json_safe_and_exact():
    update = PriceUpdate(
        symbol="BTC",
        price=Decimal("9338.96000000"),
        timestamp=datetime(2020, 1, 28, 23, 40, 9, 477000, tzinfo=UTC),
        volume_24h=Decimal("1E+2"),
        change_24h=Decimal("-0.00000001"),
        change_percent_24h=Decimal("4.720"),
        source=DataSource.BINANCE,
        quote="USDT",
    )
    data = update.to_dict()
    assert json.loads(json.dumps(data)) == data
    assert data == {
        "symbol": "BTC",
        "price": "9338.96000000",
        "timestamp": "2020-01-28T23:40:09.477000+00:00",
        "volume_24h": "100",
        "change_24h": "-0.00000001",
        "change_percent_24h": "4.720",
        "source": "binance",
        "quote": "USDT",
    }
    assert Decimal(data["price"]) == update.price


def test_to_dict_none_fields():
    data = PriceUpdate(symbol="ETH", price=Decimal("3000")).to_dict()
    assert data["volume_24h"] is None and data["source"] == "manual"
    assert data["quote"] == "USD"
