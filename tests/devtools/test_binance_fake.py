"""FakeBinance answers method frames exactly as Binance documents them."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest
from websockets.asyncio.client import connect

from devtools import FakeBinance

pytestmark = pytest.mark.timeout(20)

DOCUMENTED = json.loads(
    (
        Path(__file__).resolve().parents[1]
        / "fixtures"
        / "exchanges"
        / "binance_control_messages.json"
    ).read_text()
)


async def ask(ws, msg: dict) -> dict:
    await ws.send(json.dumps(msg))
    return json.loads(await asyncio.wait_for(ws.recv(), 5))


async def test_subscribe_unsubscribe_list_like_the_docs():
    async with FakeBinance(["BTC", "ETH"]) as fake:
        async with connect(f"{fake.url}/stream?streams=btcusdt@ticker") as ws:
            sub = {"method": "SUBSCRIBE", "params": ["ethusdt@ticker"], "id": 1}
            assert await ask(ws, sub) == DOCUMENTED["subscribe_response"]
            unsub = {"method": "UNSUBSCRIBE", "params": ["btcusdt@ticker"], "id": 312}
            assert await ask(ws, unsub) == DOCUMENTED["unsubscribe_response"]
            listed = await ask(ws, {"method": "LIST_SUBSCRIPTIONS", "id": 3})
    assert listed == {"result": ["ethusdt@ticker"], "id": 3}


async def test_unknown_url_streams_are_accepted_but_not_listed():
    async with FakeBinance(["BTC"]) as fake:
        url = f"{fake.url}/stream?streams=btcusdt@ticker/abcusdt@ticker"
        async with connect(url) as ws:
            listed = await ask(ws, {"method": "LIST_SUBSCRIPTIONS", "id": 9})
    assert listed == {"result": ["btcusdt@ticker"], "id": 9}


async def test_invalid_json_gets_code_3():
    async with FakeBinance(["BTC"]) as fake:
        async with connect(f"{fake.url}/ws") as ws:
            await ws.send("{nope")
            reply = json.loads(await asyncio.wait_for(ws.recv(), 5))
    assert reply["code"] == 3 and reply["msg"].startswith("Invalid JSON")
