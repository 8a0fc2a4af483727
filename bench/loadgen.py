"""Load generator: N browser-like WebSocket clients in ONE separate process.

Each client connects (Origin header like a browser, no compression), optionally sends a
subscribe frame, and records for every price in every ``price_update`` frame the
tick→client latency (receive time − the price's ``timestamp``, which is the exchange event
time) and the per-symbol sequence (``volume_24h`` from the bench fake exchange) to count gaps.
One client also joins ``system`` and keeps the worker's publisher counters.

Driven over stdin/stdout: prints ``READY <n>`` when all clients are subscribed; then
``MARK`` resets the counters, ``REPORT`` prints one JSON line, ``QUIT`` closes everything.

    python -m bench.loadgen --url ws://127.0.0.1:8000/ws/stream/ -n 100 --subscribe prices
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import threading
import time
from datetime import datetime

from websockets.asyncio.client import connect

from bench.common import percentile, raise_nofile


class Stats:
    def __init__(self, n: int) -> None:
        self.reset(n)
        self.status: dict | None = None
        self.status_at = 0.0

    def reset(self, n: int) -> None:
        self.lat: list[float] = []
        self.frames = 0
        self.updates = [0] * n
        self.gaps = [0] * n
        self.client_lat: list[list[float]] = [[] for _ in range(n)]
        self.prev: list[dict[str, int]] = [{} for _ in range(n)]
        self.seqs: set[tuple[str, int]] = set()  # union over clients
        self.t0 = time.time()


async def client(
    i: int,
    url: str,
    rooms: list[str],
    stats: Stats,
    ready: asyncio.Queue,
    origin: str,
    stop: asyncio.Event,
) -> None:
    ts_cache: dict[str, float] = {}
    try:
        ws = await connect(
            url,
            compression=None,
            origin=origin,
            max_size=2**22,
            ping_interval=None,
            open_timeout=60,
            max_queue=None,
        )
    except Exception as exc:  # noqa: BLE001
        await ready.put(f"fail {exc!r}")
        return
    async with ws:
        if rooms:
            want = rooms + (["system"] if i == 0 else [])
            await ws.send(json.dumps({"action": "subscribe", "rooms": want}))
            while True:
                msg = json.loads(await asyncio.wait_for(ws.recv(), 60))
                if msg.get("data", {}).get("event") == "subscribed":
                    break
        await ready.put("ok")
        prev = None
        async for raw in ws:
            now = time.time()
            if '"price_update"' not in raw:
                if i == 0 and '"system_status"' in raw:
                    stats.status = json.loads(raw)["data"].get("publisher")
                    stats.status_at = now
                continue
            if prev is not stats.prev[i]:
                prev = stats.prev[i]
                lat_i = stats.client_lat[i]
            stats.frames += 1
            prices = json.loads(raw)["data"]["prices"]
            n = 0
            for p in prices:
                ts = p["timestamp"]
                t = ts_cache.get(ts)
                if t is None:
                    if len(ts_cache) > 5000:
                        ts_cache.clear()
                    t = ts_cache[ts] = datetime.fromisoformat(ts).timestamp()
                lat = now - t
                stats.lat.append(lat)
                lat_i.append(lat)
                sym = p["symbol"]
                seq = int(p["volume_24h"].split(".")[0])
                last = prev.get(sym)
                if last is not None and seq > last + 1:
                    stats.gaps[i] += seq - last - 1
                prev[sym] = seq
                stats.seqs.add((sym, seq))
                n += 1
            stats.updates[i] += n
            if stop.is_set():
                break


def report(stats: Stats) -> dict:
    elapsed = time.time() - stats.t0
    per_client_p99 = [percentile(v, 99) for v in stats.client_lat if v]
    union = len(stats.seqs)
    received = sum(stats.updates)
    n = len(stats.updates)
    ms = lambda x: None if x is None else round(x * 1000, 2)  # noqa: E731
    return {
        "clients": n,
        "seconds": round(elapsed, 2),
        "frames": stats.frames,
        "updates": received,
        "frames_per_s": round(stats.frames / elapsed, 1),
        "updates_per_s": round(received / elapsed, 1),
        "p50_ms": ms(percentile(stats.lat, 50)),
        "p95_ms": ms(percentile(stats.lat, 95)),
        "p99_ms": ms(percentile(stats.lat, 99)),
        "max_ms": ms(max(stats.lat) if stats.lat else None),
        "worst_client_p99_ms": ms(max(per_client_p99) if per_client_p99 else None),
        "seq_gaps_total": sum(stats.gaps),
        "distinct_updates_any_client": union,
        # what at least one client got but this one did not (fan-out loss)
        "missed_vs_union": union * n - received,
        "clients_with_updates": sum(1 for u in stats.updates if u),
        "publisher": stats.status,
        "publisher_at": stats.status_at,
    }


async def main(args) -> None:
    raise_nofile()
    urls = args.url
    rooms = [r for r in args.subscribe.split(",") if r]
    stats = Stats(args.n)
    ready: asyncio.Queue = asyncio.Queue()
    stop = asyncio.Event()
    tasks = []
    ok = 0
    for i in range(args.n):
        url = urls[i % len(urls)]
        origin = "http://" + url.split("/")[2]
        tasks.append(
            asyncio.create_task(client(i, url, rooms, stats, ready, origin, stop))
        )
        if (i + 1) % 50 == 0:  # connect in waves so the accept backlog is not flooded
            for _ in range(50):
                ok += (await ready.get()) == "ok"
    for _ in range(args.n - (args.n // 50) * 50):
        ok += (await ready.get()) == "ok"
    print(f"READY {ok}", flush=True)
    loop = asyncio.get_running_loop()
    commands: asyncio.Queue = asyncio.Queue()

    def read_stdin() -> None:
        for line in sys.stdin:
            loop.call_soon_threadsafe(commands.put_nowait, line.strip())
        loop.call_soon_threadsafe(commands.put_nowait, "QUIT")

    threading.Thread(target=read_stdin, daemon=True).start()
    deadline = time.monotonic() + args.max_seconds
    while time.monotonic() < deadline:
        try:
            cmd = await asyncio.wait_for(commands.get(), 5)
        except TimeoutError:
            continue
        if cmd == "MARK":
            stats.reset(args.n)
            print("MARKED", flush=True)
        elif cmd == "REPORT":
            print("REPORT " + json.dumps(report(stats)), flush=True)
        elif cmd == "QUIT":
            break
    stop.set()
    for t in tasks:
        t.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument(
        "--url",
        action="append",
        required=True,
        help="server URL; repeat to spread clients over servers",
    )
    parser.add_argument("-n", type=int, default=100)
    parser.add_argument(
        "--subscribe",
        default="prices",
        help="rooms, comma-separated; "
        "empty for servers that push to everyone (the raw baseline)",
    )
    parser.add_argument(
        "--max-seconds",
        type=float,
        default=1200,
        help="hard bound on the process lifetime",
    )
    asyncio.run(main(parser.parse_args()))
