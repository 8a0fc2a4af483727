"""``python -m devtools.fake_exchange``: help, bad options, and a real run."""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
import socket
import subprocess
import sys
from collections.abc import AsyncIterator

import pytest
from websockets.asyncio.client import connect

from devtools.control import command
from devtools.fake_exchange import build, parse_args

pytestmark = pytest.mark.timeout(30)

CLI = [sys.executable, "-m", "devtools.fake_exchange"]


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*CLI, *args], capture_output=True, text=True, timeout=20, check=False
    )


@contextlib.asynccontextmanager
async def running(*args: str) -> AsyncIterator[str]:
    """Start the CLI on an ephemeral port; yield its ws:// URL; always stop it."""
    proc = await asyncio.create_subprocess_exec(
        *CLI, "--port", "0", *args, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    try:
        assert proc.stdout is not None
        line = await asyncio.wait_for(proc.stdout.readline(), 15)
        match = re.search(r"on (ws://127\.0\.0\.1:\d+\S*)", line.decode())
        assert match, line
        yield match.group(1)
    finally:
        proc.terminate()
        with contextlib.suppress(ProcessLookupError):
            await asyncio.wait_for(proc.wait(), 5)


def test_help_lists_every_exchange_and_exits_zero():
    result = run_cli("--help")
    assert result.returncode == 0
    for word in ("--exchange", "binance", "coinbase", "kraken", "--port", "--control"):
        assert word in result.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ([], "--exchange"),
        (["--exchange", "bitstamp"], "invalid choice"),
        (["--exchange", "binance", "--port", "70000"], "--port must be"),
        (["--exchange", "binance", "--port", "x"], "invalid int value"),
        (["--exchange", "binance", "--rate", "-1"], "--rate must be"),
        (["--exchange", "binance", "--rate", "nan"], "--rate must be"),
        (["--exchange", "coinbase", "--symbols", " , "], "at least one"),
        (["--exchange", "coinbase", "--symbols", "BTC,ET$"], "ET$"),
        (["--exchange", "binance", "--host", "0.0.0.0"], "unrecognized"),
    ],
)
def test_bad_options_print_a_message_and_exit_nonzero(args, message):
    result = run_cli(*args)
    assert result.returncode == 2
    assert message in result.stderr
    assert result.stdout == ""


def test_port_in_use_is_a_message_and_exit_one():
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = run_cli("--exchange", "binance", "--port", str(port))
    assert result.returncode == 1
    assert "cannot listen" in result.stderr


def test_build_lists_the_majors_and_the_requested_symbols():
    args = parse_args(["--exchange", "binance", "--symbols", "trx,btc", "--control"])
    fake = build(args)
    assert {"TRX", "BTC", "ETH"} <= fake.listed
    assert fake.control is not None and fake.control.symbols == ["TRX", "BTC"]
    assert fake.compression is None
    assert build(parse_args(["--exchange", "coinbase"])).control is None


async def test_binance_demo_ticks_on_its_own():
    async with running(
        "--exchange", "binance", "--symbols", "BTC", "--rate", "20"
    ) as url:
        async with connect(f"{url}/stream?streams=btcusdt@ticker") as ws:
            frame = json.loads(await asyncio.wait_for(ws.recv(), 5))
    assert frame["stream"] == "btcusdt@ticker"
    assert frame["data"]["e"] == "24hrTicker"


async def test_coinbase_demo_answers_a_subscribe_and_ticks():
    async with running(
        "--exchange", "coinbase", "--symbols", "ETH", "--rate", "20"
    ) as url:
        async with connect(url) as ws:
            await ws.send(
                json.dumps(
                    {
                        "type": "subscribe",
                        "product_ids": ["ETH-USD"],
                        "channels": ["ticker"],
                    }
                )
            )
            acked = json.loads(await asyncio.wait_for(ws.recv(), 5))
            ticker = json.loads(await asyncio.wait_for(ws.recv(), 5))
    assert acked["type"] == "subscriptions"
    assert ticker["type"] == "ticker" and ticker["product_id"] == "ETH-USD"


async def test_kraken_demo_serves_v2_and_ticks_exact_numbers():
    args = ("--exchange", "kraken", "--symbols", "BTC", "--rate", "20")
    async with running(*args) as url:
        assert url.endswith("/v2")
        async with connect(url) as ws:
            status = json.loads(await asyncio.wait_for(ws.recv(), 5))
            sub = {"channel": "ticker", "symbol": ["BTC/USD"], "snapshot": False}
            await ws.send(json.dumps({"method": "subscribe", "params": sub}))
            ack = json.loads(await asyncio.wait_for(ws.recv(), 5))
            raw = await asyncio.wait_for(ws.recv(), 5)
    assert status["channel"] == "status" and ack["success"] is True
    assert re.search(r'"last":\d+\.\d{12},', raw), raw


async def test_bench_mode_is_silent_until_ticked_on_control():
    args = ("--exchange", "binance", "--symbols", "BTC,TRX", "--rate", "0", "--control")
    async with running(*args) as url:
        port = int(url.rsplit(":", 1)[1].split("/")[0])
        async with connect(f"{url}/stream?streams=trxusdt@ticker") as ws:
            with pytest.raises(TimeoutError):
                await asyncio.wait_for(ws.recv(), 0.3)
            reply = await command(port, {"cmd": "tick", "rate": 20, "count": 2}, 10)
            frames = [
                json.loads(await asyncio.wait_for(ws.recv(), 5)) for _ in range(2)
            ]
    assert reply["sent"] == 4
    assert [f["data"]["v"] for f in frames] == ["1.00000000", "2.00000000"]
