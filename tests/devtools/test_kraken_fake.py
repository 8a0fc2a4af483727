"""FakeKraken speaks Kraken Spot WebSocket v2 to a plain ``websockets`` client."""

from __future__ import annotations

import asyncio
import json
import re
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import InvalidStatus

from devtools import FakeKraken
from devtools.kraken import exact_json

pytestmark = pytest.mark.timeout(20)

#: Real-format v2 frames, kept as raw text so their digits stay as sent.
FRAMES: dict[str, Any] = json.loads(
    (Path(__file__).parents[1] / "fixtures/exchanges/kraken_v2.json").read_text()
)
ISO = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z")
NUMBERS = ("bid", "bid_qty", "ask", "ask_qty", "last", "volume", "vwap")
NUMBERS += ("low", "high", "change", "change_pct")


def fixture(name: str) -> dict[str, Any]:
    return json.loads(FRAMES[name], parse_float=Decimal)


def exact(raw: str | bytes) -> Any:
    return json.loads(raw, parse_float=Decimal)


@pytest.fixture
async def fake():
    async with FakeKraken(["BTC", "ETH"], heartbeat_interval=0.2, seed=5) as server:
        yield server


async def recv(ws: ClientConnection, timeout: float = 3.0) -> Any:
    return exact(await asyncio.wait_for(ws.recv(), timeout))


async def open_socket(fake: FakeKraken) -> ClientConnection:
    ws = await connect(fake.endpoint)
    status = await recv(ws)
    assert status["channel"] == "status"
    return ws


async def subscribe(ws: ClientConnection, symbols: list[str], **params: Any) -> None:
    msg = {"method": "subscribe", "params": {"channel": "ticker", "symbol": symbols}}
    msg["params"].update(params)
    msg["req_id"] = 42
    await ws.send(json.dumps(msg))


def test_exact_json_writes_decimal_digits_never_through_float():
    value = {"p": Decimal("97123.456789012345"), "n": 3, "s": "x", "ok": True}
    assert exact_json(value) == '{"p":97123.456789012345,"n":3,"s":"x","ok":true}'
    assert (
        exact_json([Decimal("1E+2"), Decimal("-0.000000001")]) == "[100,-0.000000001]"
    )
    with pytest.raises(TypeError):
        exact_json(1.5)
    with pytest.raises(ValueError):
        exact_json(Decimal("NaN"))


async def test_only_the_v2_path_is_served(fake):
    assert fake.endpoint == f"ws://127.0.0.1:{fake.port}/v2"
    with pytest.raises(InvalidStatus):
        async with connect(fake.url):
            pass


async def test_status_on_connect_like_the_docs(fake):
    async with connect(fake.endpoint) as ws:
        status = await recv(ws)
    expected = fixture("status")
    assert status.keys() == expected.keys()
    assert status["type"] == "update"
    assert status["data"][0].keys() == expected["data"][0].keys()
    assert status["data"][0]["api_version"] == "v2"
    assert status["data"][0]["system"] == "online"
    assert isinstance(status["data"][0]["connection_id"], int)


async def test_subscribe_acks_each_pair_then_sends_a_snapshot(fake):
    async with await open_socket(fake) as ws:
        await subscribe(ws, ["BTC/USD", "ETH/USD"])
        frames = [await recv(ws) for _ in range(4)]
    ack, snap, ack2, snap2 = frames
    expected = fixture("subscribe_ack")
    assert list(ack) == list(expected)  # same fields, same order
    assert ack["result"] == expected["result"]  # BTC/USD, trades, snapshot true
    assert ack["success"] is True and ack["req_id"] == 42
    assert ISO.fullmatch(ack["time_in"]) and ISO.fullmatch(ack["time_out"])
    assert ack2["result"]["symbol"] == "ETH/USD"
    for frame, pair in ((snap, "BTC/USD"), (snap2, "ETH/USD")):
        assert frame["channel"] == "ticker" and frame["type"] == "snapshot"
        assert frame["data"][0]["symbol"] == pair
    assert fake.subscriptions == [["BTC/USD", "ETH/USD"]]


async def test_snapshot_false_sends_no_snapshot(fake):
    async with await open_socket(fake) as ws:
        await subscribe(ws, ["BTC/USD"], snapshot=False, event_trigger="bbo")
        ack = await recv(ws)
        await fake.emit("BTC", price=Decimal("97000.5"))
        update = await recv(ws)
    assert ack["result"]["snapshot"] is False
    assert ack["result"]["event_trigger"] == "bbo"
    assert update["type"] == "update"


async def test_unknown_pair_is_refused_like_kraken_and_the_rest_subscribed(fake):
    async with await open_socket(fake) as ws:
        await subscribe(ws, ["ABC/USD", "BTC/USD", "BTC/EUR"])
        refused = await recv(ws)
        ack = await recv(ws)
        await recv(ws)  # BTC/USD snapshot
        refused_eur = await recv(ws)
    expected = fixture("subscribe_error")
    assert list(refused) == list(expected)
    assert (
        refused["error"] == expected["error"] == "Currency pair not supported ABC/USD"
    )
    assert refused["success"] is False and refused["symbol"] == "ABC/USD"
    assert refused["req_id"] == 42
    assert ack["success"] is True and ack["result"]["symbol"] == "BTC/USD"
    assert refused_eur["error"] == "Currency pair not supported BTC/EUR"
    assert fake.subscriptions == [["BTC/USD"]]


async def test_update_prices_are_exact_json_numbers(fake):
    async with await open_socket(fake) as ws:
        await subscribe(ws, ["BTC/USD"], snapshot=False)
        await recv(ws)
        await fake.emit("BTC", price=Decimal("97123.456789012345"))
        raw = await asyncio.wait_for(ws.recv(), 3)
    assert '"last":97123.456789012345,' in raw  # digit for digit, a number
    frame = exact(raw)
    data = frame["data"][0]
    assert list(data) == list(fixture("ticker_update")["data"][0])
    assert data["last"] == Decimal("97123.456789012345")
    assert float(data["last"]) != data["last"]  # more digits than a double holds
    for key in NUMBERS:
        assert isinstance(data[key], Decimal), key
    assert data["bid"] < data["last"] < data["ask"]
    assert data["low"] <= data["last"] <= data["high"]
    assert ISO.fullmatch(data["timestamp"])


async def test_ticking_walks_prices_with_many_digits(fake):
    async with await open_socket(fake) as ws:
        await subscribe(ws, ["ETH/USD"], snapshot=False)
        await recv(ws)
        fake.start_ticking(["ETH"], 50)
        frames = [await recv(ws) for _ in range(5)]
        fake.stop_ticking()
    lasts = [f["data"][0]["last"] for f in frames if f["channel"] == "ticker"]
    assert lasts and all(-p.as_tuple().exponent == 12 for p in lasts)


async def test_no_heartbeat_before_a_subscription_then_heartbeats(fake):
    async with await open_socket(fake) as ws:
        with pytest.raises(TimeoutError):
            await asyncio.wait_for(ws.recv(), 0.5)
        await subscribe(ws, ["BTC/USD"], snapshot=False)
        await recv(ws)
        beat = await recv(ws, 2)
    assert beat == fixture("heartbeat")


async def test_ping_gets_a_pong_with_req_id(fake):
    async with await open_socket(fake) as ws:
        await ws.send(FRAMES["ping_request"])
        pong = await recv(ws)
        await ws.send(json.dumps({"method": "ping"}))
        bare = await recv(ws)
    assert list(pong) == list(fixture("pong"))
    assert pong["method"] == "pong" and pong["req_id"] == 7
    assert "req_id" not in bare


async def test_unsubscribe_stops_updates(fake):
    async with await open_socket(fake) as ws:
        await subscribe(ws, ["BTC/USD", "ETH/USD"], snapshot=False)
        await recv(ws), await recv(ws)
        msg = {
            "method": "unsubscribe",
            "params": {"channel": "ticker", "symbol": ["BTC/USD"]},
            "req_id": 9,
        }
        await ws.send(json.dumps(msg))
        ack = await recv(ws)
        await ws.send(json.dumps(msg))
        again = await recv(ws)
        await fake.emit("BTC", price=Decimal("1.5"))
        await fake.emit("ETH", price=Decimal("2.5"))
        update = await recv(ws)
    assert ack["method"] == "unsubscribe" and ack["success"] is True
    assert ack["result"] == {"channel": "ticker", "symbol": "BTC/USD"}
    assert again["success"] is False and again["error"] == "Subscription Not Found"
    assert update["data"][0]["symbol"] == "ETH/USD"


@pytest.mark.parametrize(
    ("raw", "error"),
    [
        ("{not json", "Malformed request"),
        ("[1]", "Malformed request"),
        ('{"method":"launch","req_id":1}', "Method not found"),
        ('{"method":"subscribe","req_id":1}', "Missing params"),
        ('{"method":"subscribe","params":{"channel":"book","symbol":["BTC/USD"]}}',
         "Channel book not found"),
        ('{"method":"subscribe","params":{"channel":"ticker"}}',
         "Missing field: symbol"),
        ('{"method":"subscribe","params":{"channel":"ticker","symbol":["BTC/USD"],'
         '"snapshot":"yes"}}', "Invalid field: snapshot"),
    ],
)  # fmt: skip
async def test_bad_requests_get_success_false(fake, raw, error):
    async with await open_socket(fake) as ws:
        await ws.send(raw)
        reply = await recv(ws)
    assert reply["success"] is False and reply["error"] == error
    assert ISO.fullmatch(reply["time_out"])


async def test_already_subscribed_is_an_error(fake):
    async with await open_socket(fake) as ws:
        await subscribe(ws, ["BTC/USD"], snapshot=False)
        await recv(ws)
        await subscribe(ws, ["BTC/USD"], snapshot=False)
        again = await recv(ws)
    assert again["error"] == "Already subscribed" and again["symbol"] == "BTC/USD"


async def test_silence_drop_and_restart_on_the_same_port(fake):
    ws = await open_socket(fake)
    await subscribe(ws, ["BTC/USD"], snapshot=False)
    await recv(ws)
    fake.silent()
    await ws.send(FRAMES["ping_request"])
    await fake.emit("BTC", price=Decimal("5.5"))
    with pytest.raises(TimeoutError):  # no pong, no heartbeat, no update
        await asyncio.wait_for(ws.recv(), 0.6)
    fake.silent(False)
    # The pong, and a heartbeat (0.2 s interval) that may race ahead of it.
    after = [await recv(ws) for _ in range(2)]
    assert any(f.get("method") == "pong" for f in after), after
    await fake.drop()
    with pytest.raises(Exception):  # noqa: B017 - cut without a close frame
        await asyncio.wait_for(ws.recv(), 2)
    port = fake.port
    await fake.stop()
    await fake.start()
    assert fake.port == port
    async with await open_socket(fake):
        await fake.wait_clients(1)
    assert fake.connections_total == 2
