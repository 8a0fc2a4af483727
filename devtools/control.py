"""The ``/control`` endpoint: ticks on command, at a paced rate, counted.

A benchmark must know exactly how many prices left the exchange and when, so a
fake built with ``control_symbols`` sends nothing on its own and ticks only
when told. Every frame a control tick produces carries

* the send time in the exchange's event-time field (Binance ``E``), so a
  client reads tick-to-client latency straight from the frame, and
* a per-symbol sequence number as the 24 h volume (Binance ``v`` is
  ``"<seq>.00000000"``), which the app passes through as ``volume_24h``, so a
  client can count gaps.

Commands, one JSON object per message on ``ws://127.0.0.1:<port>/control``:

* ``{"cmd": "tick", "rate": <Hz per symbol>, "count": <ticks per symbol>}``
  answers ``{"done": true, "sent": n, "late_ms": x, "seconds": s}`` once all
  ticks are out;
* ``{"cmd": "stats"}`` answers ``{"sent": n, "connections": c, "seq": {...}}``;
* anything else answers ``{"error": "..."}``.
"""

from __future__ import annotations

import asyncio
import json
import logging
import math
import time
from decimal import Decimal
from typing import Any, Protocol

from websockets.asyncio.client import connect
from websockets.asyncio.server import ServerConnection

__all__ = ["CONTROL_PATH", "MAX_COUNT", "MAX_SECONDS", "TickControl", "command"]

logger = logging.getLogger(__name__)

CONTROL_PATH = "/control"
#: Bounds on one tick command, so a typo cannot keep the fake busy for days.
MAX_COUNT = 10_000_000
MAX_SECONDS = 24 * 3600.0
_WAVE = 40
_STEP = Decimal("0.001")
_EIGHT = Decimal("0.00000001")


def wave_price(start: Decimal, seq: int) -> Decimal:
    """A +-1 % triangle wave around ``start`` that moves on every tick.

    Consecutive prices always differ, so no consumer that skips unchanged
    prices can hide a tick from the benchmark's count.
    """
    phase = seq % _WAVE
    step = phase if phase <= _WAVE // 2 else _WAVE - phase
    return (start * (1 + (step - _WAVE // 4) * _STEP)).quantize(_EIGHT)


def _tick_args(msg: dict[str, Any]) -> tuple[float, int] | str:
    """(rate, count) of a tick command, or why it is refused."""
    rate, count = msg.get("rate"), msg.get("count")
    if isinstance(rate, bool) or not isinstance(rate, int | float):
        return "rate must be a number (ticks per second per symbol)"
    if isinstance(count, bool) or not isinstance(count, int):
        return "count must be an integer (ticks per symbol)"
    if not math.isfinite(rate) or rate <= 0:
        return "rate must be positive"
    if not 0 < count <= MAX_COUNT:
        return f"count must be between 1 and {MAX_COUNT}"
    if count / rate > MAX_SECONDS:
        return f"count / rate must be at most {MAX_SECONDS:.0f} seconds"
    return float(rate), count


class TickTarget(Protocol):
    """What the control needs of a fake exchange (its base class, structurally)."""

    name: str

    @property
    def clients(self) -> int: ...

    def start_price(self, symbol: str) -> Decimal: ...

    async def emit(self, symbol: str, **kwargs: Any) -> dict[str, Any]: ...


class TickControl:
    """Paced, counted ticks of ``symbols`` round-robin, driven over a socket."""

    def __init__(self, fake: TickTarget, symbols: list[str]) -> None:
        self.fake = fake
        self.symbols = list(dict.fromkeys(symbols))
        self.seq: dict[str, int] = dict.fromkeys(self.symbols, 0)
        self.sent = 0
        # One tick command at a time: two interleaved would break the pacing.
        self._busy = asyncio.Lock()

    async def serve(self, ws: ServerConnection) -> None:
        """Answer commands until the benchmark closes the socket."""
        async for raw in ws:
            reply = await self.answer(raw)
            await ws.send(json.dumps(reply))

    async def answer(self, raw: str | bytes) -> dict[str, Any]:
        try:
            msg = json.loads(raw)
        except ValueError:
            return {"error": "invalid JSON"}
        cmd = msg.get("cmd") if isinstance(msg, dict) else None
        if cmd == "stats":
            return self.stats()
        if cmd != "tick":
            return {"error": f"unknown cmd {cmd!r}; use tick or stats"}
        if not self.symbols:
            return {"error": "no symbols to tick"}
        args = _tick_args(msg)
        if isinstance(args, str):
            return {"error": args}
        async with self._busy:
            return await self.tick(*args)

    def stats(self) -> dict[str, Any]:
        return {"sent": self.sent, "connections": self.fake.clients, "seq": self.seq}

    async def tick(self, rate: float, count: int) -> dict[str, Any]:
        """Send ``count`` ticks per symbol at ``rate`` Hz per symbol.

        Ticks are scheduled against the start time, not slept one by one, so a
        slow send makes the next ones catch up instead of stretching the run;
        ``late_ms`` reports the worst backlog.
        """
        total = count * len(self.symbols)
        per_second = rate * len(self.symbols)
        start = time.monotonic()
        sent = 0
        worst_late = 0.0
        while sent < total:
            due = min(total, int((time.monotonic() - start) * per_second) + 1)
            worst_late = max(worst_late, (due - sent - 1) / per_second)
            while sent < due:
                await self._tick_one(self.symbols[sent % len(self.symbols)])
                sent += 1
            next_at = start + sent / per_second
            await asyncio.sleep(max(0.0, next_at - time.monotonic()))
        seconds = time.monotonic() - start
        logger.info("%s: %d control ticks in %.3f s", self.fake.name, total, seconds)
        return {
            "done": True,
            "sent": total,
            "late_ms": round(worst_late * 1000, 1),
            "seconds": round(seconds, 3),
        }

    async def _tick_one(self, symbol: str) -> None:
        seq = self.seq[symbol] = self.seq[symbol] + 1
        price = wave_price(self.fake.start_price(symbol), seq)
        await self.fake.emit(symbol, price=price, volume=Decimal(seq))
        self.sent += 1


async def command(port: int, msg: dict[str, Any], timeout: float = 600) -> Any:
    """Send one command to a fake's ``/control`` on 127.0.0.1 and return the reply."""
    url = f"ws://127.0.0.1:{port}{CONTROL_PATH}"
    async with asyncio.timeout(timeout):
        async with connect(url, compression=None) as ws:
            await ws.send(json.dumps(msg))
            return json.loads(await ws.recv())
