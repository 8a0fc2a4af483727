"""Test helper: the serve_probe subprocess (a real daphne) and websockets clients."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[3]
LINE_TIMEOUT = 30.0  # seconds for one answer from the probe


class ProbeServer:
    """``serve_probe`` in a subprocess: in-memory layer, a throw-away SQLite file."""

    def __init__(self, tmp_path: Path, **extra_env: str) -> None:
        env = {
            key: value
            for key, value in os.environ.items()
            if key not in ("REDIS_URL", "DATABASE_URL")
        }
        env.update(
            PYTHONUNBUFFERED="1",
            DATABASE_URL=f"sqlite:///{tmp_path / 'probe.sqlite3'}",
            **extra_env,
        )
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "tests.streaming.delivery.serve_probe"],
            cwd=ROOT,
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        self.seen: list[str] = []
        self.port = 0

    async def start(self) -> None:
        self.port = int(await self._answer("PORT"))

    async def probe(self) -> list[dict[str, Any]]:
        self._send("probe")
        return json.loads(await self._answer("PROBE"))

    async def broadcast(self, count: int, size: int, gap_ms: float) -> dict[str, Any]:
        """Frames to every client through the hub's writer (see serve_probe)."""
        self._send(f"broadcast {count} {size} {gap_ms}")
        return json.loads(await self._answer("BROADCAST"))

    async def stop(self) -> None:
        self._send("stop")
        await self._answer("STOPPED")

    def url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/ws/stream/"

    async def client(self, **options: Any) -> Any:
        """A websockets client past the hello frame."""
        from websockets.asyncio.client import connect

        ws = await asyncio.wait_for(
            connect(self.url(), origin=f"http://127.0.0.1:{self.port}", **options),
            10,
        )
        hello = json.loads(await asyncio.wait_for(ws.recv(), 10))
        assert hello["data"]["event"] == "connected"
        return ws

    def finish(self) -> str:
        """Stop the subprocess (bounded) and return everything it printed."""
        if self.proc.poll() is None:
            try:
                self.proc.stdin.close()  # EOF: the probe stops itself
                self.proc.wait(15)
            except (subprocess.TimeoutExpired, OSError):
                self.proc.kill()
                self.proc.wait(5)
        rest = self.proc.stdout.read() if self.proc.stdout else ""
        return "".join(self.seen) + (rest or "")

    def _send(self, command: str) -> None:
        self.proc.stdin.write(command + "\n")
        self.proc.stdin.flush()

    async def _answer(self, tag: str) -> str:
        async with asyncio.timeout(LINE_TIMEOUT):
            while True:
                line = await asyncio.to_thread(self.proc.stdout.readline)
                if not line:
                    raise AssertionError("probe exited:\n" + "".join(self.seen))
                self.seen.append(line)
                if line.startswith(tag):
                    return line[len(tag) :].strip()
