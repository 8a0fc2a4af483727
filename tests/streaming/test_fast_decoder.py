"""orjson for string-priced frames, never a float: a float means an exact re-decode."""

from __future__ import annotations

import asyncio
from decimal import Decimal

import pytest

from streaming.exceptions import DataError, InexactNumber
from streaming.feeds.base import FeedStatus
from streaming.feeds.binance import BinancePriceFeed
from streaming.feeds.coinbase import CoinbasePriceFeed
from streaming.feeds.parsing import decimal_field, loads_string_amounts
from streaming.inbox import FrameInbox, exact_loads
from streaming.stream_types import StreamMetrics

FLOAT_PRICED = (
    b'{"stream":"btcusdt@ticker","data":{"e":"24hrTicker","E":1700000000000,'
    b'"s":"BTCUSDT","c":43000.123456789012345,"v":"1.5","p":"1","P":"0.1"}}'
)


def test_string_amounts_stay_strings():
    assert loads_string_amounts('{"data": {"c": "0.1"}}') == {"data": {"c": "0.1"}}


def test_a_float_where_an_amount_is_read_asks_for_an_exact_decode():
    obj = loads_string_amounts('{"c": 0.1}')
    with pytest.raises(InexactNumber):
        decimal_field(obj, "c")
    # InexactNumber is a DataError, so code that only knows DataError still
    # refuses the float rather than taking it
    assert issubclass(InexactNumber, DataError)


@pytest.mark.parametrize("raw", ['{"c": NaN}', '{"c": Infinity}', "{", "[1,"])
def test_bad_json_and_constants_are_data_errors(raw):
    with pytest.raises(DataError):
        loads_string_amounts(raw)


def test_an_amount_beyond_64_bits_is_read_exactly():
    # orjson reads such an integer as a float: the amount is decoded again
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


def test_the_live_path_redecodes_a_float_priced_frame_exactly():
    """Through the connection's inbox with the feed's fast decoder and handler."""

    async def scenario():
        feed = BinancePriceFeed(["BTC"], url="ws://127.0.0.1:9/unused")
        shard = feed._new_shard(["btcusdt@ticker"])
        got = []
        feed.add_handler(got.append)
        feed._set_status(FeedStatus.CONNECTED)
        seen = []
        inbox = FrameInbox("binance-0", 10, StreamMetrics(), loads_string_amounts)
        inbox.add(lambda obj: feed._on_frame(shard, obj))
        inbox.add(seen.append)  # a handler that reads no amount keeps the fast decode
        task = asyncio.create_task(inbox.run())
        inbox.put(FLOAT_PRICED)
        for _ in range(100):
            if got:
                break
            await asyncio.sleep(0.01)
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        return got, seen, feed, inbox

    got, seen, feed, inbox = asyncio.run(scenario())
    assert [u.price for u in got] == [Decimal("43000.123456789012345")]
    assert type(got[0].price) is Decimal
    assert feed.errors == 0 and inbox.metrics.error_count == 0
    assert len(seen) == 1


def test_the_default_decoder_is_exact():
    assert exact_loads(b'{"p": 0.3}') == {"p": Decimal("0.3")}


@pytest.mark.parametrize("text", ["0E-1000000", "0E+99", "1E-40"])
def test_a_zero_or_tiny_amount_with_a_huge_exponent_is_refused(text):
    # "0E-1000000" is zero, but printed as fixed-point it is a million zeros
    with pytest.raises(DataError, match="out of range"):
        decimal_field({"v": text}, "v")


def test_ordinary_zeros_are_amounts():
    assert decimal_field({"v": "0.00000000"}, "v") == 0
    assert decimal_field({"v": "0"}, "v") == 0
