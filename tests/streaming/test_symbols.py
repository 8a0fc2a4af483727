from __future__ import annotations

import pytest

from streaming.exceptions import ConfigurationError
from streaming.feeds.base import PriceFeedProvider as P
from streaming.feeds.symbols import (
    binance_stream_name,
    from_exchange_symbol,
    is_supported,
    to_exchange_symbol,
    validate_symbol,
)


@pytest.mark.parametrize(
    ("provider", "symbol", "expected"),
    [
        (P.BINANCE, "BTC", "BTCUSDT"),
        (P.BINANCE, "1INCH", "1INCHUSDT"),
        (P.COINBASE, "BTC", "BTC-USD"),
        (P.COINBASE, "ETH", "ETH-USD"),
        (P.MOCK, "BTC", "BTC"),
    ],
)
def test_to_exchange_symbol(provider, symbol, expected):
    assert to_exchange_symbol(provider, symbol) == expected
    assert from_exchange_symbol(provider, expected) == symbol


def test_binance_stream_name_is_lower_case():
    assert binance_stream_name("BTC") == "btcusdt@ticker"
    assert from_exchange_symbol(P.BINANCE, "btcusdt") == "BTC"


@pytest.mark.parametrize(
    ("provider", "pair"),
    [
        (P.BINANCE, "ETHBTC"),
        (P.BINANCE, "BTCEUR"),
        (P.BINANCE, "USDT"),
        (P.COINBASE, "BAND-GBP"),
        (P.COINBASE, "BTC-USDT"),
        (P.COINBASE, "BTCUSD"),
        (P.COINBASE, "-USD"),
        (P.BINANCE, None),
    ],
)
def test_non_usd_pairs_map_to_none(provider, pair):
    assert from_exchange_symbol(provider, pair) is None


@pytest.mark.parametrize("bad", ["btc", "B", "BTC-USD", "", "A" * 16, "BT C", None, 5])
def test_invalid_symbols_are_reported(bad):
    with pytest.raises(ConfigurationError, match="invalid symbol"):
        validate_symbol(bad)
    with pytest.raises(ConfigurationError):
        to_exchange_symbol(P.COINBASE, bad)


def test_quote_currency_itself_is_unsupported():
    assert not is_supported(P.BINANCE, "USDT")
    with pytest.raises(ConfigurationError, match="no USD market"):
        to_exchange_symbol(P.BINANCE, "USDT")
    with pytest.raises(ConfigurationError, match="no USD market"):
        to_exchange_symbol(P.COINBASE, "USD")
    assert to_exchange_symbol(P.COINBASE, "USDT") == "USDT-USD"
