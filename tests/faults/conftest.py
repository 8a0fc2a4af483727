"""Fault-injection helpers: private redis-server, serve/run_feeds, WS clients.

Everything binds 127.0.0.1 and every wait is bounded in time.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from tests.portfolio.test_commands import (
    ROOT,
    finish,
    free_port,
    manage,
    subprocess_database_url,
    wait_for_line,
)

__all__ = ["LoggedProcess", "finish", "free_port", "manage", "wait_for_line"]


class LoggedProcess:
    """A ``manage.py`` subprocess whose output goes to a file, not a pipe.

    A long drill that does not read a pipe for a while fills it (64 KiB of
    retry tracebacks) and the process blocks on its next log line, which
    looks exactly like the freeze being tested for.
    """

    def __init__(self, *args: str, env: dict | None = None) -> None:
        fd, name = tempfile.mkstemp(prefix="drill-", suffix=".log")
        os.close(fd)
        self.path = Path(name)
        self._file = self.path.open("w")
        full_env = {
            **os.environ,
            "PYTHONUNBUFFERED": "1",
            "DATABASE_URL": subprocess_database_url(),
            **(env or {}),
        }
        self.proc = subprocess.Popen(
            [sys.executable, "manage.py", *args],
            cwd=ROOT,
            env=full_env,
            stdout=self._file,
            stderr=subprocess.STDOUT,
            text=True,
        )
        self.pid = self.proc.pid

    def output(self) -> str:
        return self.path.read_text(errors="replace")

    def poll(self) -> int | None:
        return self.proc.poll()

    def wait_for(self, text: str, timeout: float, after: int = 0) -> int:
        """Wait until ``text`` appears past offset ``after``; returns its end."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            out = self.output()
            found = out.find(text, after)
            if found >= 0:
                return found + len(text)
            if self.proc.poll() is not None:
                break
            time.sleep(0.05)
        raise AssertionError(f"{text!r} not seen; output:\n{self.output()[-8000:]}")

    def finish(self, sig: int = signal.SIGTERM, timeout: float = 15) -> str:
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        try:
            self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(10)
            raise AssertionError(
                f"did not stop within {timeout}s:\n{self.output()[-8000:]}"
            ) from None
        finally:
            self._file.close()
        out = self.output()
        self.path.unlink(missing_ok=True)
        return out

    @property
    def returncode(self) -> int | None:
        return self.proc.returncode


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
