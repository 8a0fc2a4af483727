"""Property tests: no input makes a parser fail with anything but DataError."""

from __future__ import annotations

import json
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from streaming.exceptions import DataError
from streaming.feeds.binance import BinancePriceFeed
from streaming.feeds.coinbase import CoinbasePriceFeed
from streaming.feeds.kraken import KrakenPriceFeed

from .conftest import load_fixture

BINANCE = load_fixture("binance_ticker.json")["raw_stream_frame"]
COINBASE = load_fixture("coinbase_ticker.json")["exchange_ws_feed_ticker_2022"]
KRAKEN = json.loads(
    load_fixture("kraken_v2.json")["ticker_update"], parse_float=Decimal
)
KRAKEN_ENTRY = KRAKEN["data"][0]

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
    _try(KrakenPriceFeed.parse, raw)


@settings(max_examples=300, deadline=None)
@given(key=st.sampled_from(sorted(BINANCE)), value=values)
def test_binance_field_mutation(key, value):
    _try(BinancePriceFeed.parse, json.dumps({**BINANCE, key: value}, default=str))


@settings(max_examples=300, deadline=None)
@given(key=st.sampled_from(sorted(COINBASE)), value=values)
def test_coinbase_field_mutation(key, value):
    _try(CoinbasePriceFeed.parse, json.dumps({**COINBASE, key: value}, default=str))


@settings(max_examples=300, deadline=None)
@given(key=st.sampled_from(sorted(KRAKEN_ENTRY)), value=values)
def test_kraken_entry_mutation(key, value):
    frame = {**KRAKEN, "data": [{**KRAKEN_ENTRY, key: value}]}
    _try(KrakenPriceFeed.parse, json.dumps(frame, default=str))


# -- the feeds' message handler path (decode as StreamConnection does, then _on_frame)
import asyncio  # noqa: E402
from datetime import UTC, datetime  # noqa: E402

import pytest  # noqa: E402

from streaming.feeds.binance import _Shard  # noqa: E402

json_values = st.recursive(
    st.one_of(
        st.none(),
        st.booleans(),
        st.integers(),
        st.floats(allow_nan=True, allow_infinity=True),
        st.text(max_size=40),
        st.sampled_from(
            [
                "NaN",
                "Infinity",
                "-Infinity",
                "1e999999",
                "-0",
                "0E-1000",
                "9" * 1000,
                "1e-400",
                " 1",
                "0x10",
                "",
                "١٢٣",
            ]
        ),
    ),
    lambda children: st.one_of(
        st.lists(children, max_size=4),
        st.dictionaries(
            st.sampled_from(
                [
                    "e",
                    "s",
                    "c",
                    "E",
                    "v",
                    "p",
                    "P",
                    "q",
                    "stream",
                    "data",
                    "type",
                    "product_id",
                    "price",
                    "time",
                    "sequence",
                    "id",
                    "result",
                    "error",
                ]
            ),
            children,
            max_size=6,
        ),
    ),
    max_leaves=12,
)


def _frames_from(base: dict) -> st.SearchStrategy[str | bytes]:
    """Truncated, mutated and random frames around a valid one."""
    valid = json.dumps(base, default=str)
    return st.one_of(
        st.integers(0, len(valid)).map(lambda n: valid[:n]),  # truncated
        st.builds(
            lambda k, v: json.dumps({**base, k: v}, default=str),
            st.sampled_from(sorted(base)),
            json_values,
        ),
        json_values.map(lambda v: json.dumps(v, default=str)),
        st.text(max_size=200),
        st.binary(max_size=200),
    )


def _binance_frame() -> dict:
    return {"stream": "btcusdt@ticker", "data": BINANCE}


class _Runner:
    """Feeds each raw frame through decode + the feed's frame handler."""

    def __init__(self, feed, handle) -> None:
        self.feed, self.handle = feed, handle
        self.loop = asyncio.new_event_loop()
        self.got: list = []
        feed.add_handler(self.got.append)
        self.decode_errors = 0

    def __call__(self, raw) -> int | None:
        try:
            obj = json.loads(raw, parse_float=Decimal)  # as StreamConnection._dispatch
        except ValueError:
            self.decode_errors += 1
            return
        errors = self.feed.errors
        self.loop.run_until_complete(self.handle(obj))  # must never raise
        for update in self.got:
            assert update.price > 0 and update.symbol in self.feed.symbols
        assert self.feed.errors >= errors
        delivered = len(self.got)
        self.got.clear()
        return delivered

    def close(self) -> None:
        for task in asyncio.all_tasks(self.loop):
            task.cancel()
        self.loop.close()


def _binance_runner() -> _Runner:
    feed = BinancePriceFeed(["BTC"], url="ws://127.0.0.1:9/")
    shard = _Shard("fuzz", (), ["btcusdt@ticker"])
    return _Runner(feed, lambda obj: feed._on_frame(shard, obj))


def _coinbase_runner() -> _Runner:
    feed = CoinbasePriceFeed(["BTC", "ETH"], url="ws://127.0.0.1:9/")
    return _Runner(feed, feed._on_frame)


@pytest.fixture(scope="module")
def binance_runner():
    runner = _binance_runner()
    yield runner
    runner.close()


@pytest.fixture(scope="module")
def coinbase_runner():
    runner = _coinbase_runner()
    yield runner
    runner.close()


@pytest.fixture(scope="module")
def kraken_runner():
    feed = KrakenPriceFeed(["BTC", "ETH"], url="ws://127.0.0.1:9/v2")
    runner = _Runner(feed, feed._on_frame)
    yield runner
    runner.close()


@settings(max_examples=300, deadline=None)
@given(raw=_frames_from(KRAKEN))
def test_kraken_handler_never_raises(kraken_runner, raw):
    kraken_runner(raw)


@settings(max_examples=300, deadline=None)
@given(raw=_frames_from(_binance_frame()))
def test_binance_handler_never_raises(binance_runner, raw):
    binance_runner(raw)


@settings(max_examples=300, deadline=None)
@given(raw=_frames_from(COINBASE))
def test_coinbase_handler_never_raises(coinbase_runner, raw):
    coinbase_runner(raw)


@pytest.fixture(params=["binance", "coinbase"])
def fresh_runner(request):
    # A feed of its own: the fuzzing above may legitimately have marked a
    # symbol unsupported (an "error" frame naming it) or sent a later sequence.
    runner = _binance_runner() if request.param == "binance" else _coinbase_runner()
    yield request.param, runner
    runner.close()


def test_huge_and_special_values_are_counted_not_crashing(fresh_runner):
    exchange, runner = fresh_runner
    base = _binance_frame() if exchange == "binance" else COINBASE
    price_key = ("data", "c") if exchange == "binance" else (None, "price")
    before = runner.feed.errors
    bad = ["NaN", "Infinity", "-1", "0", "1e999999", "9" * 1000, "x" * 1_000_000]
    for value in bad:
        frame = json.loads(json.dumps(base))
        target = frame[price_key[0]] if price_key[0] else frame
        target[price_key[1]] = value
        runner(json.dumps(frame))
    runner("x" * 1_000_000)  # 1 MB of non-JSON
    runner(json.dumps(base)[:-1])  # truncated
    assert runner.feed.errors - before >= len(bad) - 1  # each bad price counted
    good = json.loads(json.dumps(base))
    if "sequence" in good:
        good["sequence"] = 10**15  # past every frame above
        good["time"] = datetime.now(UTC).isoformat()
    assert runner(json.dumps(good)) == 1  # and a good frame still goes through


async def test_garbage_over_the_wire_feed_keeps_running():
    """Raw garbage through a real socket (FakeBinance), then a real price."""
    from devtools import FakeBinance

    from .netutil import FAST, wait_until

    async with FakeBinance(seed=3) as fake:
        feed = BinancePriceFeed(["BTC"], url=fake.url, **FAST)
        got = []
        feed.add_handler(got.append)
        await feed.start()
        try:
            await fake.wait_clients(1)
            await asyncio.sleep(0.2)
            garbage = [
                '{"stream": "btcusdt@ticker", "data": {"c": NaN}}',
                "{",
                "[]",
                "null",
                '"x"',
                "x" * 500_000,
                json.dumps({"data": {"c": "1e999999"}}),
                json.dumps(
                    {"stream": "btcusdt@ticker", "data": {**BINANCE, "c": "-5"}}
                ),
            ]
            for client in list(fake._clients):
                for raw in garbage:
                    await client.ws.send(raw)
                await client.ws.send(b"\xff\xfe binary")
            update = await fake.emit("BTC", price=Decimal("12345.67"))
            await wait_until(
                lambda: any(u.price == Decimal("12345.67") for u in got), 5
            )
            assert update
            assert feed.errors >= 1
            assert feed.status_info()["errors"] >= 1
        finally:
            await feed.stop()
