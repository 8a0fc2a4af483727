from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from streaming.exceptions import DataError
from streaming.feeds.base import DataSource
from streaming.feeds.binance import BinancePriceFeed, is_server_shutdown

from .conftest import load_fixture

parse = BinancePriceFeed.parse
TICKER = load_fixture("binance_ticker.json")
CONTROL = load_fixture("binance_control_messages.json")


def raw(obj) -> str:
    return json.dumps(obj, default=str)


def test_combined_stream_frame_exact():
    update = parse(raw(TICKER["combined_stream_frame"]))
    assert update.symbol == "BTC"
    assert update.price == Decimal("9338.96000000")
    assert str(update.price) == "9338.96000000"
    assert update.volume_24h == Decimal("72229.53692000")
    assert update.change_24h == Decimal("420.97000000")  # p: absolute change
    assert update.change_percent_24h == Decimal("4.720")  # P: percent
    assert update.timestamp == datetime(2020, 1, 28, 23, 40, 9, 477000, tzinfo=UTC)
    assert update.source is DataSource.BINANCE


def test_raw_stream_frame_exact():
    update = parse(raw(TICKER["raw_stream_frame"]).encode())
    assert update.symbol == "BTC"
    assert update.price == Decimal("21442.89000000")
    assert update.volume_24h == Decimal("61782.53002000")
    assert update.change_24h == Decimal("51.85000000")
    assert update.change_percent_24h == Decimal("0.242")
    assert update.timestamp == datetime(2022, 6, 27, 10, 48, 38, 297000, tzinfo=UTC)


def test_parse_message_takes_decoded_object():
    obj = TICKER["combined_stream_frame"]
    update = BinancePriceFeed.parse_message(obj)
    # Not None == None: the decoded frame really yields the ticker's price.
    assert update is not None
    assert update.symbol == "BTC"
    assert update.price == Decimal(obj["data"]["c"])
    assert update == parse(raw(obj))


@pytest.mark.parametrize(
    "key",
    [
        "subscribe_response",
        "unsubscribe_response",
        "list_subscriptions_response",
        "get_property_response",
        "server_shutdown_raw",
        "server_shutdown_combined",
    ],
)
def test_control_frames_carry_no_price(key):
    assert parse(raw(CONTROL[key])) is None


def test_server_shutdown_is_recognised():
    assert is_server_shutdown(CONTROL["server_shutdown_raw"])
    assert is_server_shutdown(CONTROL["server_shutdown_combined"])
    assert not is_server_shutdown(TICKER["combined_stream_frame"])
    assert not is_server_shutdown([1])


def test_error_frame_raises():
    with pytest.raises(DataError, match="binance error 3"):
        parse(raw(CONTROL["error_invalid_json"]))


@pytest.mark.parametrize(
    "frame",
    load_fixture("binance_combined.json")["messages"]
    + [load_fixture("binance_miniticker.json")["all_market_array_frame"]],
)
def test_other_stream_kinds_are_ignored(frame):
    assert parse(raw(frame)) is None


def test_pair_not_quoted_in_usdt_is_ignored():
    frame = dict(TICKER["raw_stream_frame"], s="ETHBTC")
    assert parse(raw(frame)) is None


def _broken(**changes):
    data = dict(TICKER["raw_stream_frame"])
    for key, value in changes.items():
        if value is KeyError:
            data.pop(key)
        else:
            data[key] = value
    return data


@pytest.mark.parametrize(
    "data",
    [
        _broken(c=KeyError),
        _broken(v=KeyError),
        _broken(p=KeyError),
        _broken(P=KeyError),
        _broken(E=KeyError),
        _broken(s=KeyError),
        _broken(c=""),
        _broken(c="abc"),
        _broken(c="NaN"),
        _broken(c="Infinity"),
        _broken(c="-Infinity"),
        _broken(c="1e999999"),
        _broken(c="9" * 100),
        _broken(c="0"),
        _broken(c="-1.5"),
        _broken(c=True),
        _broken(c=[1]),
        _broken(c={"x": 1}),
        _broken(v="-1"),
        _broken(E="1580254809477"),
        _broken(E=-5),
        _broken(E=10**20),
        _broken(E=True),
        _broken(s=5),
    ],
)
def test_malformed_ticker_raises(data):
    with pytest.raises(DataError):
        parse(raw(data))


@pytest.mark.parametrize(
    "text",
    [
        "",
        "not json",
        "{",
        b"\xff\xfe",
        '{"stream":"btcusdt@ticker","data":[1,2]}',
        '"just a string"',
        "42",
        '{"e":"24hrTicker","E":1,"s":"BTCUSDT","c":NaN,"v":"1","p":"1","P":"1"}',
        '{"e":"24hrTicker","E":1,"s":"BTCUSDT","c":Infinity,"v":"1","p":"1","P":"1"}',
        '{"e":"24hrTicker","E":1,"s":"BTCUSDT","c":1e999999,"v":"1","p":"1","P":"1"}',
    ],
)
def test_non_json_and_bad_shapes_raise(text):
    with pytest.raises(DataError):
        parse(text)


def test_json_numbers_are_exact():
    text = '{"e":"24hrTicker","E":1,"s":"BTCUSDT","c":0.1,"v":2,"p":"0","P":"0"}'
    update = parse(text)
    assert update.price == Decimal("0.1") and update.volume_24h == Decimal(2)
