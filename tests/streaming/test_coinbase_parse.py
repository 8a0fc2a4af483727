from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from streaming.exceptions import DataError
from streaming.feeds.base import DataSource
from streaming.feeds.coinbase import CoinbasePriceFeed

from .conftest import load_fixture

parse = CoinbasePriceFeed.parse
TICKERS = load_fixture("coinbase_ticker.json")
ETH_2022 = TICKERS["exchange_ws_feed_ticker_2022"]


def raw(obj) -> str:
    return json.dumps(obj, default=str)


def test_eth_usd_ticker_exact():
    update = parse(raw(ETH_2022))
    assert update.symbol == "ETH"
    assert update.price == Decimal("1285.22")
    assert update.volume_24h == Decimal("245532.79269678")
    assert update.change_24h == Decimal("-25.57")
    assert update.change_percent_24h == Decimal("-1.9507")
    assert update.timestamp == datetime(2022, 10, 19, 23, 28, 22, 61769, tzinfo=UTC)
    assert update.source is DataSource.COINBASE


def test_parse_ticker_exposes_sequence():
    update, sequence = CoinbasePriceFeed.parse_ticker(ETH_2022)
    assert sequence == 37475248783
    assert update == parse(raw(ETH_2022))


@pytest.mark.parametrize("frame", TICKERS["exchange_ws_feed_ticker_2021"])
def test_non_usd_products_are_ignored(frame):
    assert parse(raw(frame)) is None


@pytest.mark.parametrize(
    ("index", "symbol", "change", "percent", "sequence"),
    [
        (0, "BAND", "0.1128", "0.7692", 333938798),
        (1, "SKL", "0.0650", "12.7401", 27883326),
        (2, "NU", "0.0353", "8.7355", 108779525),
    ],
)
def test_2021_captures_as_usd_products(index, symbol, change, percent, sequence):
    frame = dict(TICKERS["exchange_ws_feed_ticker_2021"][index])
    frame["product_id"] = f"{symbol}-USD"
    update, seq = CoinbasePriceFeed.parse_ticker(json.loads(raw(frame)))
    assert update.symbol == symbol
    assert update.price == Decimal(frame["price"])
    assert update.volume_24h == Decimal(frame["volume_24h"])
    assert update.change_24h == Decimal(change)
    assert str(update.change_percent_24h) == percent
    assert seq == sequence
    assert update.timestamp.isoformat().startswith("2021-04-17T16:43:")


@pytest.mark.parametrize(
    "frame",
    [
        load_fixture("coinbase_heartbeat.json")["heartbeat_message"],
        *load_fixture("coinbase_subscriptions.json")["messages"],
        *load_fixture("coinbase_subscribe_request.json")["frames"],
        {"type": "last_match", "product_id": "BTC-USD"},
    ],
)
def test_control_frames_carry_no_price(frame):
    assert parse(raw(frame)) is None


def test_error_frame_raises():
    frame = {
        "type": "error",
        "message": "Failed to subscribe",
        "reason": "FOO-USD is not a valid product",
    }
    with pytest.raises(DataError, match="FOO-USD is not a valid product"):
        parse(raw(frame))


def test_open_zero_or_missing_gives_no_percent():
    update = parse(raw(dict(ETH_2022, open_24h="0")))
    assert update.change_24h == Decimal("1285.22")
    assert update.change_percent_24h is None
    frame = dict(ETH_2022)
    del frame["open_24h"]
    assert parse(raw(frame)).change_24h is None


def _broken(**changes):
    frame = dict(ETH_2022)
    for key, value in changes.items():
        if value is KeyError:
            frame.pop(key)
        else:
            frame[key] = value
    return frame


@pytest.mark.parametrize(
    "frame",
    [
        _broken(price=KeyError),
        _broken(time=KeyError),
        _broken(sequence=KeyError),
        _broken(product_id=KeyError),
        _broken(price=""),
        _broken(price="abc"),
        _broken(price="NaN"),
        _broken(price="inf"),
        _broken(price="1E+999999"),
        _broken(price="-3"),
        _broken(price="0"),
        _broken(price=None),
        _broken(price=False),
        _broken(volume_24h="-1"),
        _broken(open_24h="x"),
        _broken(time="yesterday"),
        _broken(time="2022-10-19T23:28:22"),  # naive
        _broken(time=12345),
        _broken(sequence="37475248783"),
        _broken(sequence=-1),
        _broken(sequence=1.5),
        _broken(product_id=7),
        {"no": "type"},
        [1, 2],
    ],
)
def test_malformed_frames_raise(frame):
    with pytest.raises(DataError):
        parse(raw(frame))


@pytest.mark.parametrize("text", ["", "nope", "{", b"\x80", '{"type":"ticker",'])
def test_non_json_raises(text):
    with pytest.raises(DataError):
        parse(text)


def test_subscribe_message_shape():
    expected = load_fixture("coinbase_subscribe_request.json")["frames"][0]
    message = CoinbasePriceFeed.subscribe_message(["BTC", "ETH"])
    assert message == {
        "type": "subscribe",
        "product_ids": ["BTC-USD", "ETH-USD"],
        "channels": ["ticker", "heartbeat"],
    }
    assert message.keys() == expected.keys()
    unsub = CoinbasePriceFeed.subscribe_message(["BTC"], "unsubscribe")
    assert unsub["type"] == "unsubscribe"


def test_sequence_tracking_drops_stale_and_accepts_gaps():
    feed = CoinbasePriceFeed(["ETH"])
    t0 = datetime(2022, 1, 1, tzinfo=UTC)
    t1 = datetime(2022, 1, 2, tzinfo=UTC)
    assert feed.accept_sequence("ETH", 10, t0)
    assert feed.accept_sequence("ETH", 500, t1)  # gap: fine
    assert not feed.accept_sequence("ETH", 500, t1)  # duplicate
    assert not feed.accept_sequence("ETH", 11, t0)  # older
    assert feed.out_of_order == 2


def test_sequence_reset_after_reconnect_needs_newer_time():
    feed = CoinbasePriceFeed(["ETH"])
    t0 = datetime(2022, 1, 1, tzinfo=UTC)
    t1 = datetime(2022, 1, 2, tzinfo=UTC)
    assert feed.accept_sequence("ETH", 100, t1)
    feed._subscriptions()  # what the connection calls after every (re)connect
    assert not feed.accept_sequence("ETH", 50, t0)  # replay of an old frame
    assert feed.accept_sequence("ETH", 5, datetime(2022, 1, 3, tzinfo=UTC))
    assert not feed.accept_sequence("ETH", 4, datetime(2022, 1, 4, tzinfo=UTC))


async def test_frame_handling_counts_and_dispatches():
    feed = CoinbasePriceFeed(["ETH"])
    got = []
    feed.add_handler(got.append)
    frame = json.loads(raw(ETH_2022))
    await feed._on_frame(frame)
    await feed._on_frame(frame)  # same sequence again: dropped
    await feed._on_frame({"type": "error", "message": "x"})
    await feed._on_frame(dict(frame, product_id="BTC-USD", sequence=1))  # untracked
    heartbeat = dict(
        load_fixture("coinbase_heartbeat.json")["heartbeat_message"],
        product_id="ETH-USD",
    )
    feed.last_seen.clear()
    await feed._on_frame(heartbeat)
    assert [u.price for u in got] == [Decimal("1285.22")]
    assert (feed.messages, feed.out_of_order, feed.errors) == (1, 1, 1)
    assert "ETH" in feed.last_seen


async def test_subscriptions_reply_is_recorded():
    feed = CoinbasePriceFeed(["SKL", "BTC"])
    reply = load_fixture("coinbase_subscriptions.json")["messages"][1]
    await feed._on_frame(reply)
    assert feed.confirmed == {"SKL"}
