"""Crashing and refused sockets leave no client behind (issue 19, item 4).

A 2 KB nested-JSON frame (RecursionError), the consumer's own size-limit and
flood closes, and connecting while Redis is down used to kill the consumer
without ``disconnect()``: the client stayed counted and in its rooms, and was
refreshed into Redis presence for ever. Real ``serve`` processes; counts read
from ``/metrics`` (``ws_clients``) and, with Redis, the presence set.
"""

from __future__ import annotations

import asyncio
import json
import signal
import time
import urllib.request

import pytest
from websockets.exceptions import ConnectionClosed

from streaming.delivery.client_frames import FLOOD_CLOSE_AFTER, RATE_BURST

from .conftest import LoggedProcess, free_port, open_client

pytestmark = [pytest.mark.timeout(120), pytest.mark.django_db(transaction=True)]

NESTED = "[" * 1000 + "]" * 1000  # 2,000 characters, deeper than the recursion limit


def _ws_clients(port: int) -> int:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as r:
        for line in r.read().decode().splitlines():
            if line.startswith("ws_clients "):
                return int(float(line.split()[1]))
    raise AssertionError("no ws_clients in /metrics")


async def _settled_count(port: int, want: int, timeout: float = 10) -> int:
    deadline = time.monotonic() + timeout
    count = await asyncio.to_thread(_ws_clients, port)
    while count != want and time.monotonic() < deadline:
        await asyncio.sleep(0.2)
        count = await asyncio.to_thread(_ws_clients, port)
    return count


async def _closed_code(ws) -> int | None:
    try:
        async with asyncio.timeout(10):
            while True:
                await ws.recv()
    except ConnectionClosed:
        pass
    return ws.close_code


async def _probe_nested(port: int) -> int | None:
    ws = await open_client(port)
    await ws.send(NESTED)
    reply = None
    async with asyncio.timeout(10):
        while reply is None:
            frame = json.loads(await ws.recv())
            if frame["type"] == "error":
                reply = frame
    assert "nested" in reply["data"]["message"], reply
    await ws.close()
    return ws.close_code


async def _probe_oversized(port: int) -> int | None:
    ws = await open_client(port)
    await ws.send("x" * 20_000)
    return await _closed_code(ws)


async def _probe_flood(port: int) -> int | None:
    ws = await open_client(port)
    for _ in range(int(RATE_BURST) + FLOOD_CLOSE_AFTER + 50):
        await ws.send(json.dumps({"action": "ping"}))
    return await _closed_code(ws)


def _serve(port: int, **env: str) -> LoggedProcess:
    return LoggedProcess(
        "serve",
        "--port",
        str(port),
        env={"PRICE_FEEDS": "mock", "FEED_STARTUP_WINDOW": "0", **env},
    )


async def test_crashing_and_refused_frames_leave_no_ghost():
    port = free_port()
    proc = _serve(port, REDIS_URL="")
    try:
        await asyncio.to_thread(proc.wait_for, "Feed worker started", 30)
        keeper = await open_client(port)  # the one real client
        nested = [await _probe_nested(port) for _ in range(20)]
        oversized = [await _probe_oversized(port) for _ in range(5)]
        flooded = [await _probe_flood(port) for _ in range(3)]
        count = await _settled_count(port, 1)
        await keeper.send(json.dumps({"action": "ping"}))  # still served
        await keeper.close()
    finally:
        out = proc.finish(signal.SIGINT)
    assert count == 1, (count, out[-4000:])
    assert set(oversized) == {4009}, oversized
    assert set(flooded) == {4008}, flooded
    assert 1011 not in nested, nested
    assert "RecursionError" not in out, out[-4000:]


def _presence_count(url_port: int, prefix: str) -> int:
    import redis

    client = redis.Redis(host="127.0.0.1", port=url_port, socket_timeout=2)
    try:
        return client.zcount(f"{prefix}:presence:clients", time.time(), "+inf")
    finally:
        client.close()


async def test_connecting_while_redis_is_down_leaves_no_ghost(private_redis):
    port = free_port()
    prefix = "faultghost"
    proc = _serve(port, REDIS_URL=private_redis.url, CHANNEL_LAYER_PREFIX=prefix)
    try:
        await asyncio.to_thread(proc.wait_for, "Feed worker started", 30)
        keeper = await open_client(port)
        private_redis.kill()
        from websockets.asyncio.client import connect

        for _ in range(20):
            try:
                ws = await asyncio.wait_for(
                    connect(
                        f"ws://127.0.0.1:{port}/ws/stream/",
                        origin=f"http://127.0.0.1:{port}",
                        open_timeout=5,
                    ),
                    6,
                )
            except (OSError, TimeoutError, ConnectionClosed, Exception):
                continue
            await ws.close()
        private_redis.start()
        local = await _settled_count(port, 1)
        # The hub refreshes presence every 15 s: wait for one refresh.
        deadline = time.monotonic() + 20
        present = -1
        while time.monotonic() < deadline:
            present = await asyncio.to_thread(
                _presence_count, private_redis.port, prefix
            )
            if present == 1:
                break
            await asyncio.sleep(0.5)
        await keeper.send(json.dumps({"action": "ping"}))
        await keeper.close()
    finally:
        out = proc.finish(signal.SIGINT)
    assert local == 1, (local, out[-4000:])
    assert present == 1, (present, out[-4000:])
