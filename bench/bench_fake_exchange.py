"""BENCH-ONLY fake Binance exchange (a stand-in until streaming/testing/fake_exchange.py lands).

Serves Binance's combined-stream endpoint ``ws://127.0.0.1:<port>/stream?streams=btcusdt@ticker/...``
(answers SUBSCRIBE/UNSUBSCRIBE like Binance) and emits ``24hrTicker`` frames only when told to,
so a benchmark controls the exact number and rate of ticks. Each frame carries

* ``E`` = the send time in epoch milliseconds (tick→client latency is read from the frame), and
* ``v`` = a per-symbol sequence number (``"<seq>.00000000"``), which the app passes through as
  ``volume_24h``, so a client can count gaps.

Control: connect to ``/control`` and send ``{"cmd": "tick", "rate": <Hz per symbol>,
"count": <ticks per symbol>}``; the reply ``{"done": true, "sent": n, "late_ms": x}`` comes when
all ticks are out. ``{"cmd": "stats"}`` returns counters. Bounded: count ≤ 10 million.

    python -m bench.bench_fake_exchange --port 9001
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import time
from urllib.parse import parse_qs, urlsplit

from websockets.asyncio.server import serve

from bench.common import HOST, SYMBOLS

BASE_PRICE = {s: 10.0 * (i + 1) ** 1.7 for i, s in enumerate(SYMBOLS)}


class FakeBinance:
    def __init__(self, symbols: list[str]) -> None:
        self.symbols = symbols
        self.conns: dict[object, set[str]] = {}
        self.seq = {s: 0 for s in symbols}
        self.sent = 0
        self.busy = asyncio.Lock()

    async def handler(self, ws) -> None:
        path = ws.request.path
        if path.startswith("/control"):
            await self.control(ws)
            return
        query = parse_qs(urlsplit(path).query)
        streams = set()
        for part in query.get("streams", [""])[0].split("/"):
            if part:
                streams.add(part.split("@")[0].upper().removesuffix("USDT"))
        self.conns[ws] = streams
        try:
            async for raw in ws:
                try:
                    msg = json.loads(raw)
                except ValueError:
                    continue
                params = [
                    p.split("@")[0].upper().removesuffix("USDT")
                    for p in msg.get("params", [])
                ]
                if msg.get("method") == "SUBSCRIBE":
                    streams.update(params)
                elif msg.get("method") == "UNSUBSCRIBE":
                    streams.difference_update(params)
                if "id" in msg:
                    await ws.send(json.dumps({"result": None, "id": msg["id"]}))
        finally:
            self.conns.pop(ws, None)

    def frame(self, symbol: str) -> str:
        self.seq[symbol] += 1
        seq = self.seq[symbol]
        price = BASE_PRICE[symbol] * (1 + 0.01 * math.sin(seq / 7))
        now_ms = int(time.time() * 1000)
        return json.dumps(
            {
                "stream": f"{symbol.lower()}usdt@ticker",
                "data": {
                    "e": "24hrTicker",
                    "E": now_ms,
                    "s": f"{symbol}USDT",
                    "p": "1.50000000",
                    "P": "0.150",
                    "w": f"{price:.8f}",
                    "c": f"{price:.8f}",
                    "Q": "0.01000000",
                    "o": f"{price:.8f}",
                    "h": f"{price * 1.02:.8f}",
                    "l": f"{price * 0.98:.8f}",
                    "v": f"{seq}.00000000",
                    "q": "1000.00000000",
                    "O": now_ms - 86400000,
                    "C": now_ms,
                    "F": 1,
                    "L": seq,
                    "n": seq,
                },
            },
            separators=(",", ":"),
        )

    async def tick(self, rate: float, count: int) -> dict:
        count = min(int(count), 10_000_000)
        total = count * len(self.symbols)
        per_second = rate * len(self.symbols)
        start = time.monotonic()
        i = 0
        worst_late = 0.0
        while i < total:
            now = time.monotonic()
            due = min(total, int((now - start) * per_second) + 1)
            if due > i + 1:
                worst_late = max(worst_late, (due - i - 1) / per_second)
            while i < due:
                symbol = self.symbols[i % len(self.symbols)]
                text = self.frame(symbol)
                for ws, streams in list(self.conns.items()):
                    if symbol in streams:
                        try:
                            await ws.send(text)
                        except Exception:  # noqa: BLE001
                            pass
                self.sent += 1
                i += 1
            next_at = start + i / per_second
            await asyncio.sleep(max(0.0, next_at - time.monotonic()))
        return {
            "done": True,
            "sent": total,
            "late_ms": round(worst_late * 1000, 1),
            "seconds": round(time.monotonic() - start, 3),
        }

    async def control(self, ws) -> None:
        async for raw in ws:
            msg = json.loads(raw)
            if msg.get("cmd") == "tick":
                async with self.busy:
                    reply = await self.tick(float(msg["rate"]), int(msg["count"]))
                await ws.send(json.dumps(reply))
            elif msg.get("cmd") == "stats":
                await ws.send(
                    json.dumps(
                        {
                            "sent": self.sent,
                            "connections": len(self.conns),
                            "seq": self.seq,
                        }
                    )
                )


async def main(port: int, symbols: list[str]) -> None:
    fake = FakeBinance(symbols)
    async with serve(
        fake.handler, HOST, port, compression=None, max_queue=None, ping_interval=None
    ) as server:
        print(f"fake binance on ws://{HOST}:{port}/stream", flush=True)
        await server.serve_forever()


async def command(port: int, msg: dict, timeout: float = 600) -> dict:
    """Send one control command and wait for its reply."""
    from websockets.asyncio.client import connect

    async with connect(f"ws://{HOST}:{port}/control", compression=None) as ws:
        await ws.send(json.dumps(msg))
        return json.loads(await asyncio.wait_for(ws.recv(), timeout))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--symbols", default=",".join(SYMBOLS))
    args = parser.parse_args()
    asyncio.run(main(args.port, args.symbols.split(",")))
