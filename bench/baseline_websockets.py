"""Baseline 1 — the raw limit: a minimal ``websockets`` broadcast server, no Django.

Reads the bench fake exchange and sends every tick, as the same price frame the app
sends, to every connected client with ``websockets.broadcast`` (one serialisation, no
per-client await). No rooms, no auth, no conflation: the physical limit of Python on
this machine.

    python -m bench.baseline_websockets --port 8100 --exchange ws://127.0.0.1:9001/stream
"""

from __future__ import annotations

import argparse
import asyncio

from websockets.asyncio.client import connect
from websockets.asyncio.server import broadcast, serve

from bench._frames import frame_text, price_from_binance
from bench.common import HOST, SYMBOLS, raise_nofile


def floor_broadcast(clients: set, text: str) -> None:
    """One pre-built frame, the same bytes written to every socket's transport."""
    from streaming.delivery.asgi_transport import text_frame

    frame = text_frame(text)
    for ws in clients:
        ws.transport.write(frame)


async def main(port: int, exchange: str, floor: bool = False) -> None:
    raise_nofile()
    clients = set()

    async def handler(ws) -> None:
        clients.add(ws)
        try:
            async for _ in ws:  # clients may send subscribe frames; ignored
                pass
        finally:
            clients.discard(ws)

    streams = "/".join(f"{s.lower()}usdt@ticker" for s in SYMBOLS)
    async with serve(
        handler, HOST, port, compression=None, ping_interval=None, max_queue=None
    ):
        print(f"baseline websockets on {port}", flush=True)
        while True:
            try:
                async with connect(
                    f"{exchange}?streams={streams}",
                    compression=None,
                    max_queue=None,
                    ping_interval=None,
                ) as feed:
                    async for raw in feed:
                        price = price_from_binance(raw)
                        if price is not None:
                            if floor:
                                floor_broadcast(clients, frame_text([price]))
                            else:
                                broadcast(clients, frame_text([price]))
            except OSError:
                await asyncio.sleep(0.5)


if __name__ == "__main__":
    p = argparse.ArgumentParser()
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--exchange", required=True)
    p.add_argument("--floor", action="store_true", help="pre-built frame, raw write")
    a = p.parse_args()
    asyncio.run(main(a.port, a.exchange, a.floor))
