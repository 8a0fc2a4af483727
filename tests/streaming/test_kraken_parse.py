"""KrakenPriceFeed.parse on Kraken Spot v2 frames: exact numbers, control frames."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from streaming.exceptions import ConfigurationError, DataError
from streaming.feeds.base import DataSource, PriceFeedProvider
from streaming.feeds.kraken import KrakenPriceFeed
from streaming.feeds.symbols import from_exchange_symbol, to_exchange_symbol

from .conftest import load_fixture

parse = KrakenPriceFeed.parse
#: Raw frame texts, digits exactly as sent.
FRAMES: dict[str, str] = load_fixture("kraken_v2.json")
UPDATE = json.loads(FRAMES["ticker_update"], parse_float=Decimal)


def entry_text(**changes: str) -> str:
    """The update frame with raw JSON text spliced in for some entry fields."""
    text = FRAMES["ticker_update"]
    for key, raw in changes.items():
        start = text.index(f'"{key}":') + len(key) + 3
        end = min(i for i in (text.find(",", start), text.find("}", start)) if i > 0)
        text = text[:start] + raw + text[end:]
    return text


def test_update_exact():
    update = parse(FRAMES["ticker_update"])
    assert update.symbol == "BTC"
    assert update.price == Decimal("91890.15")
    assert update.volume_24h == Decimal("2211.00070001")
    assert update.change_24h == Decimal("-310.85")
    assert update.change_percent_24h == Decimal("-0.34")
    assert update.timestamp == datetime(2026, 11, 28, 8, 15, 1, 250, tzinfo=UTC)
    assert update.source is DataSource.KRAKEN


def test_snapshot_exact():
    update = parse(FRAMES["ticker_snapshot"])
    assert update.symbol == "ETH"
    assert update.price == Decimal("3204.115")
    assert update.volume_24h == Decimal("41234.56789012")
    assert update.change_24h == Decimal("44.615")
    assert update.change_percent_24h == Decimal("1.41")


def test_more_digits_than_a_float_holds():
    update = parse(entry_text(last="97123.456789012345"))
    assert update.price == Decimal("97123.456789012345")
    assert isinstance(update.price, Decimal)
    assert str(update.price) == "97123.456789012345"


def test_integer_number_accepted():
    assert parse(entry_text(last="97000")).price == Decimal("97000")


def test_valid_decimal_string_accepted():
    # v2 sends numbers, but a decimal string is just as exact: accepted.
    assert parse(entry_text(last='"97123.5"')).price == Decimal("97123.5")


@pytest.mark.parametrize(
    "name", ["heartbeat", "status", "subscribe_ack", "subscribe_error", "pong"]
)
def test_control_frames_are_none(name):
    assert parse(FRAMES[name]) is None
    assert KrakenPriceFeed.parse_entries(json.loads(FRAMES[name])) == []


def test_other_channel_is_none():
    assert parse('{"channel":"book","type":"update","data":[{}]}') is None


def test_non_usd_pair_is_none():
    assert parse(entry_text(symbol='"BTC/EUR"')) is None


def test_several_entries():
    frame = json.loads(FRAMES["ticker_update"], parse_float=Decimal)
    second = {**frame["data"][0], "symbol": "SOL/USD", "last": Decimal("152.5")}
    frame["data"].append(second)
    updates = KrakenPriceFeed.parse_entries(frame)
    assert [(u.symbol, u.price) for u in updates] == [
        ("BTC", Decimal("91890.15")),
        ("SOL", Decimal("152.5")),
    ]
    assert KrakenPriceFeed.parse_message(frame) == updates[0]


@pytest.mark.parametrize(
    "text",
    [
        entry_text(last="NaN"),
        entry_text(last="Infinity"),
        entry_text(last="-Infinity"),
        entry_text(last='"NaN"'),
        entry_text(last='"abc"'),
        entry_text(last='""'),
        entry_text(last="0"),
        entry_text(last="-1.5"),
        entry_text(last="true"),
        entry_text(last="null"),
        entry_text(volume="-3"),
        entry_text(change='"x"'),
        entry_text(timestamp='"yesterday"'),
        entry_text(timestamp='"2026-11-28T08:15:01"'),
        entry_text(symbol="7"),
        '{"channel":"ticker","type":"update","data":[]}',
        '{"channel":"ticker","type":"update"}',
        '{"channel":"ticker","type":"update","data":[3]}',
        '{"channel":"ticker","type":"mystery","data":[{}]}',
        '{"channel":"ticker","type":["update"],"data":[{}]}',
        '{"channel":7}',
        '{"method":7}',
        '{"hello":"world"}',
        "[1,2]",
        "not json",
    ],
)
def test_bad_frames_raise(text):
    with pytest.raises(DataError):
        parse(text)


def test_missing_last_raises():
    frame = json.loads(FRAMES["ticker_update"], parse_float=Decimal)
    del frame["data"][0]["last"]
    with pytest.raises(DataError, match="last"):
        KrakenPriceFeed.parse_message(frame)


def test_float_is_refused():
    frame = json.loads(FRAMES["ticker_update"])  # floats: digits may be lost
    with pytest.raises(DataError):
        KrakenPriceFeed.parse_message(frame)


def test_subscribe_request_matches_the_recorded_one():
    message = KrakenPriceFeed.subscribe_message(["BTC", "ETH"], 42)
    assert message == json.loads(FRAMES["subscribe_request"])


def test_symbols():
    assert to_exchange_symbol(PriceFeedProvider.KRAKEN, "BTC") == "BTC/USD"
    assert from_exchange_symbol(PriceFeedProvider.KRAKEN, "BTC/USD") == "BTC"
    assert from_exchange_symbol(PriceFeedProvider.KRAKEN, "BTC/EUR") is None
    assert from_exchange_symbol(PriceFeedProvider.KRAKEN, "BTC-USD") is None
    with pytest.raises(ConfigurationError):
        to_exchange_symbol(PriceFeedProvider.KRAKEN, "USD")
