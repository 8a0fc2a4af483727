"""The /control endpoint: counted, paced ticks with send time and sequence."""

from __future__ import annotations

import asyncio
import json
import time
from decimal import Decimal

import pytest
from websockets.asyncio.client import connect

from devtools import FakeBinance
from devtools.control import MAX_COUNT, command, wave_price
from streaming.feeds.binance import BinancePriceFeed

pytestmark = pytest.mark.timeout(20)

#: Bench symbols outside the fake's default list, like the benchmarks tick.
BENCH = ["BTC", "TRX", "ATOM", "ARB"]


@pytest.fixture
async def fake():
    async with FakeBinance(BENCH, control_symbols=BENCH) as server:
        yield server


def test_wave_price_moves_every_tick_and_stays_within_one_percent():
    start = Decimal("0.1234")
    prices = [wave_price(start, seq) for seq in range(1, 200)]
    assert all(a != b for a, b in zip(prices, prices[1:], strict=False))
    assert all(abs(p - start) <= start / 100 for p in prices)
    assert all(isinstance(p, Decimal) for p in prices)


async def test_no_control_endpoint_unless_asked():
    async with FakeBinance(["BTC"]) as plain:
        assert plain.control is None
        with pytest.raises(Exception, match="404"):
            async with connect(f"{plain.url}/control"):
                pass


async def test_tick_sends_count_per_symbol_with_send_time_and_sequence(fake):
    streams = "/".join(f"{s.lower()}usdt@ticker" for s in BENCH)
    async with connect(f"{fake.url}/stream?streams={streams}") as ws:
        await fake.wait_clients(1)
        before_ms = time.time_ns() // 1_000_000
        reply = await command(fake.port, {"cmd": "tick", "rate": 50, "count": 3}, 10)
        assert reply["done"] is True
        assert reply["sent"] == 3 * len(BENCH)
        assert reply["late_ms"] >= 0 and reply["seconds"] > 0
        frames = [json.loads(await ws.recv()) for _ in range(3 * len(BENCH))]
    # Round-robin in the configured order, each symbol's sequence counting up.
    symbols = [f["data"]["s"] for f in frames]
    assert symbols == [f"{s}USDT" for s in BENCH] * 3
    for base in BENCH:
        vols = [f["data"]["v"] for f in frames if f["data"]["s"] == f"{base}USDT"]
        assert vols == ["1.00000000", "2.00000000", "3.00000000"]
    after_ms = time.time_ns() // 1_000_000
    assert all(before_ms <= f["data"]["E"] <= after_ms for f in frames)


async def test_tick_is_paced_by_rate(fake):
    reply = await command(fake.port, {"cmd": "tick", "rate": 10, "count": 3}, 10)
    # 12 ticks at 40/s: the last is due at 11/40 s, not all at once.
    assert 0.2 <= reply["seconds"] < 2


async def test_stats_counts_ticks_and_connections(fake):
    async with connect(f"{fake.url}/ws/btcusdt@ticker"):
        await fake.wait_clients(1)
        await command(fake.port, {"cmd": "tick", "rate": 100, "count": 2}, 10)
        stats = await command(fake.port, {"cmd": "stats"})
    assert stats == {
        "sent": 2 * len(BENCH),
        "connections": 1,
        "seq": dict.fromkeys(BENCH, 2),
    }


@pytest.mark.parametrize(
    ("msg", "error"),
    [
        ({"cmd": "tick", "rate": 0, "count": 1}, "rate must be positive"),
        ({"cmd": "tick", "rate": "5", "count": 1}, "rate must be a number"),
        ({"cmd": "tick", "rate": 5, "count": 1.5}, "count must be an integer"),
        ({"cmd": "tick", "rate": 5, "count": MAX_COUNT + 1}, "count must be between"),
        ({"cmd": "tick", "rate": 0.0001, "count": 100}, "at most"),
        ({"cmd": "launch"}, "unknown cmd"),
        ([1, 2], "unknown cmd"),
    ],
)
async def test_bad_commands_answer_an_error_and_keep_the_socket(fake, msg, error):
    async with connect(f"{fake.url}/control") as ws:
        await ws.send(json.dumps(msg))
        assert error in json.loads(await ws.recv())["error"]
        await ws.send("not json")
        assert json.loads(await ws.recv()) == {"error": "invalid JSON"}
        await ws.send(json.dumps({"cmd": "stats"}))
        assert json.loads(await ws.recv())["sent"] == 0


async def test_control_socket_is_not_a_market_data_client(fake):
    async with connect(f"{fake.url}/control") as ws:
        await asyncio.sleep(0.05)
        assert fake.clients == 0
        await fake.drop()  # a network failure on the market data side only
        await ws.send(json.dumps({"cmd": "stats"}))
        assert json.loads(await ws.recv())["connections"] == 0


async def test_stop_cuts_control_sockets_too(fake):
    async with connect(f"{fake.url}/control") as ws:
        await asyncio.sleep(0.05)
        await fake.stop()
        with pytest.raises(Exception):  # noqa: B017 - any close, clean or not
            await asyncio.wait_for(ws.recv(), 2)


async def test_real_feed_keeps_every_bench_symbol_and_counts_sequences(fake):
    """The bench's old fake ignored LIST_SUBSCRIPTIONS, so the feed dropped all."""
    feed = BinancePriceFeed(BENCH, url=fake.url, reconnect_delay=0.05)
    got = []
    feed.add_handler(got.append)
    await feed.start()
    try:
        await fake.wait_clients(1)
        await asyncio.sleep(0.3)  # the LIST_SUBSCRIPTIONS round trip
        await command(fake.port, {"cmd": "tick", "rate": 50, "count": 2}, 10)
        async with asyncio.timeout(5):
            while len(got) < 2 * len(BENCH):
                await asyncio.sleep(0.01)
    finally:
        await feed.stop()
    assert feed.unsupported == set()
    assert {u.symbol for u in got} == set(BENCH)
    assert sorted(u.volume_24h for u in got if u.symbol == "ARB") == [1, 2]
