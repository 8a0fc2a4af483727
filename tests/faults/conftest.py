"""Fault-injection helpers: private redis-server, serve/run_feeds, WS clients.

Everything binds 127.0.0.1 and every wait is bounded in time.
"""

from __future__ import annotations

import asyncio
import json
import shutil
import subprocess
import time

import pytest

from tests.portfolio.test_commands import finish, free_port, manage, wait_for_line

__all__ = ["finish", "free_port", "manage", "wait_for_line"]

REDIS_SERVER = shutil.which("redis-server")


class PrivateRedis:
    """A throw-away redis-server on a spare port (no persistence), restartable."""

    def __init__(self) -> None:
        self.port = free_port()
        self.proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self, timeout: float = 10) -> None:
        import redis

        self.proc = subprocess.Popen(
            [
                REDIS_SERVER,
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + timeout
        client = redis.Redis(host="127.0.0.1", port=self.port, socket_timeout=1)
        while time.monotonic() < deadline:
            try:
                if client.ping():
                    client.close()
                    return
            except redis.ConnectionError:
                time.sleep(0.05)
        raise AssertionError(f"redis-server on {self.port} did not start")

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)


@pytest.fixture
def private_redis():
    if REDIS_SERVER is None:
        pytest.skip("redis-server is not installed")
    server = PrivateRedis()
    server.start()
    yield server
    server.kill()


def ws_url(port: int) -> str:
    return f"ws://127.0.0.1:{port}/ws/stream/"


async def open_client(port: int, rooms=("prices",), **kwargs):
    """A websockets client on ``serve``'s /ws/stream/, subscribed to ``rooms``."""
    from websockets.asyncio.client import connect

    ws = await asyncio.wait_for(
        connect(
            ws_url(port), origin=f"http://127.0.0.1:{port}", open_timeout=10, **kwargs
        ),
        10,
    )
    hello = json.loads(await asyncio.wait_for(ws.recv(), 10))
    assert hello["data"]["event"] == "connected"
    await ws.send(json.dumps({"action": "subscribe", "rooms": list(rooms)}))
    return ws


async def next_price(ws, timeout: float) -> dict:
    """The next price frame within ``timeout`` seconds (other frames skipped)."""
    async with asyncio.timeout(timeout):
        while True:
            frame = json.loads(await ws.recv())
            if frame["type"] == "price_update":
                return frame


def worker_config(**overrides):
    """The suite's fast worker settings (tests/portfolio/test_worker.py), BTC only."""
    from tests.portfolio.live.test_worker import config

    return config(**{"symbols": ["BTC"], "snapshot_interval": 3600, **overrides})


@pytest.fixture
async def inprocess_worker(connection_manager):
    """An in-process FeedWorker (mock feed, BTC), stopped after the test."""
    from portfolio.live.worker import FeedWorker

    stop = asyncio.Event()
    running = []

    async def start(**overrides):
        worker = FeedWorker(worker_config(**overrides))
        running.append(asyncio.create_task(worker.run(stop)))
        await asyncio.wait_for(worker.started.wait(), 10)
        return worker

    yield start
    stop.set()
    await asyncio.wait_for(asyncio.gather(*running, return_exceptions=True), 15)
    # The worker's DB work ran in asgiref's shared thread: close that thread's
    # connection too, or dropping the test database finds it still in use.
    from asgiref.sync import sync_to_async
    from django.db import connections

    await sync_to_async(connections.close_all)()
