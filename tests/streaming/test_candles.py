"""Exchange candles: pure parsers on real-shaped samples, the client on 127.0.0.1."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from streaming.feeds.candles import (
    CandleClient,
    parse_binance_klines,
    parse_coinbase_candles,
    parse_kraken_ohlc,
)
from tests.candles_fake import serve

pytestmark = pytest.mark.timeout(60)

T0 = datetime(2024, 1, 1, tzinfo=UTC)


def test_binance_klines_exact():
    raw = json.loads(
        '[[1704067200000, "42283.58", "42554.57", "42261.02", '
        '"42475.230000000000000001", "1271.68", 1704070799999, "53957.69", 40650,'
        ' "682.16", "28952.47", "0"]]',
        parse_float=Decimal,
    )
    (candle,) = parse_binance_klines(raw)
    assert candle.open_time == T0
    assert candle.close == Decimal("42475.230000000000000001")


def test_coinbase_candles_numbers_exact():
    raw = json.loads(
        "[[1704070800, 1, 2, 1, 42500.123456789012345678, 3],"
        " [1704067200, 1, 2, 1, 42475.23, 3]]",
        parse_float=Decimal,
    )
    candles = parse_coinbase_candles(raw)
    assert [c.close for c in candles] == [
        Decimal("42500.123456789012345678"),
        Decimal("42475.23"),
    ]
    assert candles[1].open_time == T0


def test_kraken_ohlc_exact():
    raw = {
        "error": [],
        "result": {
            "XXBTZUSD": [[1704067200, "1", "2", "1", "42475.2", "1", "0", 3]],
            "last": 1704067200,
        },
    }
    (candle,) = parse_kraken_ohlc(raw)
    assert (candle.open_time, candle.close) == (T0, Decimal("42475.2"))


@pytest.mark.parametrize(
    "parse,raw",
    [
        (parse_binance_klines, {"code": -1121, "msg": "Invalid symbol."}),
        (parse_binance_klines, [[1704067200000, "1", "1", "1", 42.5]]),  # float-ish
        (parse_coinbase_candles, {"message": "NotFound"}),
        (parse_coinbase_candles, [[1704067200, 1, 1, 1, "-3", 1]]),
        (parse_kraken_ohlc, {"error": ["EQuery:Unknown asset pair"]}),
    ],
)
def test_parsers_refuse_errors_and_inexact(parse, raw):
    with pytest.raises(ValueError):
        parse(raw)


def _price(symbol, interval, t):
    return Decimal(1000 + (t - T0) // timedelta(hours=1)) + Decimal("0.000000000001")


def test_binance_pages_are_bounded_and_exact():
    with serve(_price, limit=50) as (url, fake):
        client = CandleClient(providers=("binance",), urls={"binance": url})
        provider, candles = client.fetch("BTC", "1h", T0, T0 + timedelta(hours=120))
    assert provider == "binance"
    assert len(candles) == 120 and len(fake.requests) == 3
    assert candles[0].close == Decimal("1000.000000000001")
    assert candles[-1].open_time == T0 + timedelta(hours=119)
    assert "symbol=BTCUSDT" in fake.requests[0] and "interval=1h" in fake.requests[0]

    with serve(_price, limit=10) as (url, fake):
        client = CandleClient(
            providers=("binance",), urls={"binance": url}, max_requests=4
        )
        _, candles = client.fetch("BTC", "1h", T0, T0 + timedelta(hours=120))
    assert len(fake.requests) == 4 and len(candles) == 40


def test_open_candle_is_left_out():
    now = datetime.now(UTC)
    start = now.replace(minute=0, second=0, microsecond=0) - timedelta(hours=3)
    with serve(_price) as (url, _):
        client = CandleClient(providers=("coinbase",), urls={"coinbase": url})
        provider, candles = client.fetch("ETH", "1h", start, now + timedelta(hours=1))
    assert provider == "coinbase"
    assert [c.open_time for c in candles] == [
        start + timedelta(hours=i) for i in range(3)
    ]


def test_kraken_daily_with_legacy_code():
    with serve(_price) as (url, fake):
        client = CandleClient(providers=("kraken",), urls={"kraken": url})
        _, candles = client.fetch("BTC", "1d", T0, T0 + timedelta(days=3))
    assert "pair=XBTUSD" in fake.requests[0] and "interval=1440" in fake.requests[0]
    assert [c.close for c in candles] == [
        _price("BTC", "1d", T0 + timedelta(days=i)) for i in range(3)
    ]


def test_failover_and_backoff():
    clock = [0.0]
    with serve(_price) as (down, dead), serve(_price) as (up, alive):
        dead.fail = True
        client = CandleClient(
            providers=("binance", "coinbase"),
            urls={"binance": down, "coinbase": up},
            backoff_base=30,
            clock=lambda: clock[0],
        )
        provider, candles = client.fetch("BTC", "1d", T0, T0 + timedelta(days=2))
        assert provider == "coinbase" and len(candles) == 2
        client.fetch("BTC", "1d", T0, T0 + timedelta(days=2))
        assert len(dead.requests) == 1  # backing off: not asked again
        clock[0] = 31.0
        client.fetch("BTC", "1d", T0, T0 + timedelta(days=2))
        assert len(dead.requests) == 2
        clock[0] = 60.0  # second failure doubled the wait to 60 s
        client.fetch("BTC", "1d", T0, T0 + timedelta(days=2))
        assert len(dead.requests) == 2


def test_unreachable_is_none():
    client = CandleClient(
        providers=("binance",), urls={"binance": "http://127.0.0.1:9"}, timeout=2
    )
    assert client.fetch("BTC", "1d", T0, T0 + timedelta(days=2)) is None
