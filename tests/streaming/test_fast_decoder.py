"""The feeds' decoders: typed ticker frames in one pass, exact JSON for the rest.

Binance and Coinbase ticker frames are decoded straight into msgspec structs;
anything else (acks, errors, numbers where strings are expected) goes the
generic exact way. Either way no amount is ever a float, and both ways give
the same prices and the same errors.
"""

from __future__ import annotations

import asyncio
import json
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from streaming.encoding import exact_loads
from streaming.exceptions import DataError
from streaming.feeds import binance_frames, coinbase
from streaming.feeds.base import FeedStatus
from streaming.feeds.binance import BinancePriceFeed
from streaming.feeds.coinbase import CoinbasePriceFeed
from streaming.feeds.parsing import decimal_field, loads
from streaming.inbox import FrameInbox
from streaming.stream_types import StreamMetrics

TICKER = {
    "stream": "btcusdt@ticker",
    "data": {
        "e": "24hrTicker",
        "E": 1700000000000,
        "s": "BTCUSDT",
        "c": "43000.12000000",
        "v": "1.50000000",
        "p": "-12.5",
        "P": "-0.029",
        "w": "43001.1",  # fields the parser does not read are skipped
    },
}
FLOAT_PRICED = (
    b'{"stream":"btcusdt@ticker","data":{"e":"24hrTicker","E":1700000000000,'
    b'"s":"BTCUSDT","c":43000.123456789012345,"v":"1.5","p":"1","P":"0.1"}}'
)
COINBASE_TICKER = {
    "type": "ticker",
    "sequence": 37475248783,
    "product_id": "ETH-USD",
    "price": "1285.22",
    "open_24h": "1310.79",
    "volume_24h": "245532.79269678",
    "time": "2022-10-19T23:28:22.061769Z",
    "side": "buy",
}


def _raw(obj) -> bytes:
    return json.dumps(obj).encode()


def test_a_binance_ticker_is_decoded_typed_and_parsed_like_the_dict():
    raw = _raw(TICKER)
    typed = binance_frames.decode(raw)
    assert type(typed) is binance_frames.TickerFrame
    from_typed = binance_frames.parse_message(typed)
    from_dict = binance_frames.parse_message(loads(raw))
    assert from_typed == from_dict
    assert from_typed.price == Decimal("43000.12000000")
    assert from_typed.change_percent_24h == Decimal("-0.029")


def test_a_coinbase_ticker_is_decoded_typed_and_parsed_like_the_dict():
    raw = _raw(COINBASE_TICKER)
    typed = coinbase.decode(raw)
    assert type(typed) is coinbase.TickerFrame
    from_typed = CoinbasePriceFeed.parse_ticker(typed)
    from_dict = CoinbasePriceFeed.parse_ticker(loads(raw))
    assert from_typed == from_dict
    update, sequence = from_typed
    assert sequence == 37475248783
    assert update.change_24h == Decimal("-25.57")
    assert update.timestamp.tzinfo is not None


@pytest.mark.parametrize(
    "raw",
    [
        b'{"result":null,"id":1}',
        b'{"stream":"btcusdt@ticker","data":{"e":"serverShutdown","E":1}}',
        FLOAT_PRICED,
    ],
)
def test_other_binance_frames_are_generic_exact_json(raw):
    obj = binance_frames.decode(raw)
    assert type(obj) is dict
    assert obj == exact_loads(raw)


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("c", "NaN", "not finite"),
        ("c", "abc", "not a number"),
        ("c", "", "empty or too long"),
        ("c", "1" * 65, "empty or too long"),
        ("c", "0", "must be positive"),
        ("c", "1E+40", "out of range"),
        ("v", "-1", "negative volume"),
        ("E", True, "integer timestamp"),
        ("E", 10**15, "out of range"),
    ],
)
def test_a_bad_binance_ticker_is_the_same_error_typed_or_not(field, value, message):
    frame = json.loads(json.dumps(TICKER))
    frame["data"][field] = value
    raw = _raw(frame)
    with pytest.raises(DataError, match=message):
        binance_frames.parse_message(binance_frames.decode(raw))
    with pytest.raises(DataError, match=message):
        binance_frames.parse_message(loads(raw))


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("price", "-1", "must be positive"),
        ("sequence", -1, "sequence"),
        ("time", "2022-10-19T23:28:22", "no timezone"),
        ("time", "yesterday", "ISO-8601"),
        ("volume_24h", "-2", "negative volume"),
    ],
)
def test_a_bad_coinbase_ticker_is_the_same_error_typed_or_not(field, value, message):
    frame = dict(COINBASE_TICKER, **{field: value})
    raw = _raw(frame)
    with pytest.raises(DataError, match=message):
        CoinbasePriceFeed.parse_ticker(coinbase.decode(raw))
    with pytest.raises(DataError, match=message):
        CoinbasePriceFeed.parse_ticker(loads(raw))


def test_a_coinbase_time_with_an_offset_is_read_as_utc():
    frame = dict(COINBASE_TICKER, time="2022-10-20T01:28:22.061769+02:00")
    update, _ = CoinbasePriceFeed.parse_ticker(coinbase.decode(_raw(frame)))
    assert update.timestamp.isoformat() == "2022-10-19T23:28:22.061769+00:00"


def test_a_float_where_an_amount_is_read_is_refused():
    # Only a caller that decoded inexactly could hand one over.
    with pytest.raises(DataError, match="float"):
        decimal_field({"c": 0.1}, "c")


@pytest.mark.parametrize("raw", ['{"c": NaN}', '{"c": Infinity}', "{", "[1,", ""])
def test_bad_json_and_constants_are_data_errors(raw):
    with pytest.raises(DataError):
        loads(raw)
    with pytest.raises(DataError):
        binance_frames.decode(raw)


def test_deep_nesting_is_a_data_error_not_a_crash():
    with pytest.raises(DataError):
        loads("[" * 100_000)


def test_an_amount_beyond_64_bits_is_read_exactly():
    raw = FLOAT_PRICED.replace(b'"v":"1.5"', b'"v":123456789012345678901234567890')
    update = BinancePriceFeed.parse(raw)
    assert update.volume_24h == Decimal("123456789012345678901234567890")


def test_binance_number_priced_frame_is_exact():
    update = BinancePriceFeed.parse(FLOAT_PRICED)
    assert update.price == Decimal("43000.123456789012345")


def test_coinbase_number_priced_frame_is_exact():
    raw = (
        '{"type":"ticker","sequence":1,"product_id":"ETH-USD","price":1285.220000001,'
        '"open_24h":"1310.79","volume_24h":"245532.79269678",'
        '"time":"2022-10-19T23:28:22.061769Z"}'
    )
    assert CoinbasePriceFeed.parse(raw).price == Decimal("1285.220000001")


def test_the_live_path_reads_typed_and_number_priced_frames_exactly():
    """Through the connection's inbox with the feed's own decoder and handler."""

    async def scenario():
        feed = BinancePriceFeed(["BTC"], url="ws://127.0.0.1:9/unused")
        shard = feed._new_shard(["btcusdt@ticker"])
        got = []
        feed.add_handler(got.append)
        feed._set_status(FeedStatus.CONNECTED)
        inbox = FrameInbox("binance-0", 10, StreamMetrics(), binance_frames.decode)
        inbox.add(lambda obj: feed._on_frame(shard, obj))
        task = asyncio.create_task(inbox.run())
        inbox.put(_raw(TICKER))
        inbox.put(FLOAT_PRICED)
        for _ in range(100):
            if len(got) == 2:
                break
            await asyncio.sleep(0.01)
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        return got, feed, inbox

    got, feed, inbox = asyncio.run(scenario())
    assert [u.price for u in got] == [
        Decimal("43000.12000000"),
        Decimal("43000.123456789012345"),
    ]
    assert all(type(u.price) is Decimal for u in got)
    assert feed.errors == 0 and inbox.metrics.error_count == 0


def test_the_default_decoder_is_exact():
    assert exact_loads(b'{"p": 0.3, "n": 2}') == {"p": Decimal("0.3"), "n": 2}


@pytest.mark.parametrize("text", ["0E-1000000", "0E+99", "1E-40"])
def test_a_zero_or_tiny_amount_with_a_huge_exponent_is_refused(text):
    # "0E-1000000" is zero, but printed as fixed-point it is a million zeros
    with pytest.raises(DataError, match="out of range"):
        decimal_field({"v": text}, "v")


def test_ordinary_zeros_are_amounts():
    assert decimal_field({"v": "0.00000000"}, "v") == 0
    assert decimal_field({"v": "0"}, "v") == 0


# Typed and generic paths must agree on every input, not only the cases above.
_values = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**20), max_value=10**20),
    st.decimals(allow_nan=False, allow_infinity=False).map(str),
    st.sampled_from(["NaN", "-Infinity", "1e31", "0E-99", " 1", "1_0", "+5", ""]),
    st.text(max_size=70),
    st.decimals(allow_nan=False, allow_infinity=False, places=8),
)


def _outcome(parse, obj):
    try:
        return parse(obj)
    except DataError as exc:
        return ("DataError", str(exc))


def _same_either_way(raw, decode, parse):
    typed = _outcome(parse, decode(raw))
    generic = _outcome(parse, loads(raw))
    assert typed == generic


@settings(max_examples=400, deadline=None)
@given(key=st.sampled_from(["E", "s", "c", "v", "p", "P", "e"]), value=_values)
def test_binance_typed_and_generic_paths_agree(key, value):
    frame = json.loads(json.dumps(TICKER))
    frame["data"][key] = value
    raw = json.dumps(frame, default=str)  # a Decimal value is sent as a number
    if isinstance(value, Decimal):
        raw = raw.replace(f'"{value}"', str(value))
    _same_either_way(raw, binance_frames.decode, binance_frames.parse_message)


@settings(max_examples=400, deadline=None)
@given(
    key=st.sampled_from(
        ["type", "sequence", "product_id", "price", "time", "volume_24h", "open_24h"]
    ),
    value=_values,
)
def test_coinbase_typed_and_generic_paths_agree(key, value):
    raw = json.dumps(dict(COINBASE_TICKER, **{key: value}), default=str)
    if isinstance(value, Decimal):
        raw = raw.replace(f'"{value}"', str(value))
    _same_either_way(raw, coinbase.decode, CoinbasePriceFeed.parse_ticker)
