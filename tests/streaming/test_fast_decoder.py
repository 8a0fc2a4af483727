"""orjson for string-priced frames, never a float: numbers go to the exact parser."""

from __future__ import annotations

from decimal import Decimal

import pytest

from streaming.exceptions import DataError
from streaming.feeds.binance import BinancePriceFeed
from streaming.feeds.parsing import loads_string_amounts


def test_string_amounts_stay_strings():
    assert loads_string_amounts('{"data": {"c": "0.1"}}') == {"data": {"c": "0.1"}}


def test_a_json_number_with_a_fraction_is_read_exactly_not_as_float():
    obj = loads_string_amounts('{"stream": "x", "data": {"c": 0.1, "E": 1}}')
    assert obj["data"]["c"] == Decimal("0.1") and type(obj["data"]["c"]) is Decimal
    assert type(loads_string_amounts('[{"p": 0.3}]')[0]["p"]) is Decimal


@pytest.mark.parametrize("raw", ['{"c": NaN}', '{"c": Infinity}', "{", "[1,"])
def test_bad_json_and_constants_are_data_errors(raw):
    with pytest.raises(DataError):
        loads_string_amounts(raw)


def test_binance_number_priced_frame_is_exact():
    raw = (
        '{"stream":"btcusdt@ticker","data":{"e":"24hrTicker","E":1700000000000,'
        '"s":"BTCUSDT","c":43000.123456789,"v":"1.5","p":"1","P":"0.1"}}'
    )
    update = BinancePriceFeed.parse(raw)
    assert update.price == Decimal("43000.123456789")
