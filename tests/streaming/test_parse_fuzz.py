"""Property tests: no input makes a parser fail with anything but DataError."""

from __future__ import annotations

import json

from hypothesis import given, settings
from hypothesis import strategies as st

from streaming.exceptions import DataError
from streaming.feeds.binance import BinancePriceFeed
from streaming.feeds.coinbase import CoinbasePriceFeed

from .conftest import load_fixture

BINANCE = load_fixture("binance_ticker.json")["raw_stream_frame"]
COINBASE = load_fixture("coinbase_ticker.json")["exchange_ws_feed_ticker_2022"]

values = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=30),
    st.lists(st.integers(), max_size=3),
)


def _try(parse, raw):
    try:
        update = parse(raw)
    except DataError:
        return
    if update is not None:
        assert update.price > 0
        assert update.timestamp.tzinfo is not None


@settings(max_examples=300, deadline=None)
@given(st.one_of(st.text(max_size=200), st.binary(max_size=200)))
def test_arbitrary_text(raw):
    _try(BinancePriceFeed.parse, raw)
    _try(CoinbasePriceFeed.parse, raw)


@settings(max_examples=300, deadline=None)
@given(key=st.sampled_from(sorted(BINANCE)), value=values)
def test_binance_field_mutation(key, value):
    _try(BinancePriceFeed.parse, json.dumps({**BINANCE, key: value}, default=str))


@settings(max_examples=300, deadline=None)
@given(key=st.sampled_from(sorted(COINBASE)), value=values)
def test_coinbase_field_mutation(key, value):
    _try(CoinbasePriceFeed.parse, json.dumps({**COINBASE, key: value}, default=str))
