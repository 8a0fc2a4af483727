"""Load generator: N browser-like WebSocket clients in one separate process.

Each client (bench/ws_client.py: a hand-written RFC 6455 client on ``asyncio.Protocol``,
browser-like Origin, no compression) connects, optionally sends the subscribe frame
``{"action":"subscribe","rooms":[...]}`` (client 0 also joins ``system``), and records
for every price in every ``price_update`` frame the tick→client latency (receive time −
the price's ``timestamp``, the exchange event time) and the per-symbol sequence (integer
part of ``volume_24h`` from the bench fake exchange) to count gaps.

Why so lean: this process shares the machine with the server under test, and whatever
it spends per frame delays the next frame it reads, which shows up as server latency.
A broadcast sends the *same bytes* to every client, so a frame is decoded once
(orjson) into a tuple of ``(symbol, sequence, event time)`` and the bytes are the key of
a small cache: the other N − 1 copies cost one dict lookup plus, per price, one
subtraction, one append and one sequence check. A frame whose bytes differ (merged
frames, another server's) is simply decoded on its own: the cache never changes what is
measured. The union of (symbol, sequence) over clients is taken when a frame is
decoded, since identical bytes carry identical prices.

Driven over stdin/stdout: prints ``READY <n connected>`` when every client is open and
subscribed; ``MARK`` resets the counters (``MARKED``), ``REPORT`` prints ``REPORT`` and
one JSON line, ``QUIT`` closes everything. Several of these processes can share the N
clients (``--first`` gives this process's first client index; bench/fanout.py
``--procs``): each report carries a latency histogram (``lat_hist``, 0.1 ms bins) and
the union as ranges (``union``) so the reports can be pooled, never averaged
(:func:`merge_reports`).

    python -m bench.loadgen --url ws://127.0.0.1:8000/ws/stream/ -n 100
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import threading
import time
from datetime import datetime

import orjson

from bench.common import percentile, raise_nofile
from bench.ws_client import WSClient, connect

BIN = 1e-4  # histogram bin: 0.1 ms
CACHE_MAX = 4096


class Recorder:
    """What every client shares: the decoded-frame cache, the union, the status."""

    def __init__(self) -> None:
        self.frames: dict[bytes, tuple] = {}  # frame bytes -> ((sym, seq, t), ...)
        self.ts: dict[str, float] = {}  # ISO timestamp -> epoch seconds
        self.union: dict[str, set[int]] = {}
        self.status: dict | None = None
        self.status_at = 0.0
        self.t0 = time.time()

    def reset(self) -> None:
        self.frames.clear()  # so the union is rebuilt from this step's frames
        self.union = {}
        self.t0 = time.time()

    def decode(self, payload: bytes, client: LoadClient, now: float) -> tuple | None:
        """Prices of a price frame (cached by its bytes); None for other frames."""
        msg = orjson.loads(payload)
        if msg.get("type") != "price_update":
            client.on_other(msg, now)
            return None
        prices = []
        ts_cache, union = self.ts, self.union
        for p in msg["data"]["prices"]:
            ts = p["timestamp"]
            t = ts_cache.get(ts)
            if t is None:
                if len(ts_cache) > 5000:
                    ts_cache.clear()
                t = ts_cache[ts] = datetime.fromisoformat(ts).timestamp()
            sym = p["symbol"]
            seq = int(p["volume_24h"].partition(".")[0])
            prices.append((sym, seq, t))
            seen = union.get(sym)
            if seen is None:
                seen = union[sym] = set()
            seen.add(seq)
        entry = tuple(prices)
        if len(self.frames) >= CACHE_MAX:
            self.frames.clear()
        self.frames[payload] = entry
        return entry


class LoadClient(WSClient):
    """One browser: measures each price it receives; nothing else on the hot path."""

    def __init__(self, host, path, origin, rec: Recorder, rooms: list[str]) -> None:
        super().__init__(host, path, origin)
        self.rec, self.rooms = rec, rooms
        self.cache = rec.frames
        self.subscribed: asyncio.Future = asyncio.get_running_loop().create_future()
        self.reset()

    def reset(self) -> None:
        self.lat: list[float] = []
        self.prev: dict[str, int] = {}
        self.updates = self.gaps = self.n_frames = 0

    def on_open(self) -> None:
        if self.rooms:
            self.send_text(json.dumps({"action": "subscribe", "rooms": self.rooms}))
        else:
            self.subscribed.set_result(None)

    def on_text(self, payload: bytes, now: float) -> None:
        prices = self.cache.get(payload)
        if prices is None:
            prices = self.rec.decode(payload, self, now)
            if prices is None:
                return
        self.n_frames += 1
        self.updates += len(prices)
        lat, prev = self.lat, self.prev
        for sym, seq, t in prices:
            lat.append(now - t)
            last = prev.get(sym)
            if last is not None and seq > last + 1:
                self.gaps += seq - last - 1
            prev[sym] = seq

    def on_other(self, msg: dict, now: float) -> None:
        """Frames that are not prices: the subscribe ack, status for ``system``."""
        data = msg.get("data") or {}
        if not self.subscribed.done() and data.get("event") == "subscribed":
            self.subscribed.set_result(None)
        elif msg.get("type") == "system_status" and "system" in self.rooms:
            # The public system room no longer carries the publisher counters
            # (bench/fanout.py reads them from the staff status API); kept in case.
            self.rec.status = data.get("publisher")
            self.rec.status_at = now


def ranges(values: set[int]) -> list[list[int]]:
    """{1,2,3,7} -> [[1,3],[7,7]]: the union, compact enough to send and merge."""
    out: list[list[int]] = []
    for v in sorted(values):
        if out and v == out[-1][1] + 1:
            out[-1][1] = v
        else:
            out.append([v, v])
    return out


def report(rec: Recorder, clients: list[LoadClient], n: int) -> dict:
    """This process's counts plus the poolable parts (histogram, union ranges)."""
    hist: dict[int, int] = {}
    worst = None
    for c in clients:
        for x in c.lat:
            b = round(x / BIN)
            hist[b] = hist.get(b, 0) + 1
        p = percentile(c.lat, 99)
        if p is not None and (worst is None or p > worst):
            worst = p
    received = sum(c.updates for c in clients)
    rep = {
        "clients": n,
        "seconds": round(time.time() - rec.t0, 2),
        "frames": sum(c.n_frames for c in clients),
        "updates": received,
        "worst_client_p99_ms": None if worst is None else round(worst * 1000, 2),
        "seq_gaps_total": sum(c.gaps for c in clients),
        "clients_with_updates": sum(1 for c in clients if c.updates),
        "publisher": rec.status,
        "publisher_at": rec.status_at,
        "lat_hist": {str(b): k for b, k in hist.items()},
        "union": {sym: ranges(seqs) for sym, seqs in rec.union.items()},
    }
    return merge_reports([rep])


def hist_percentile(hist: list[tuple[int, int]], total: int, q: float) -> float | None:
    """Same rank as common.percentile (round(q·(n−1))), over sorted (bin, count)."""
    if not total:
        return None
    k = min(total - 1, max(0, round(q / 100 * (total - 1))))
    seen = 0
    for b, count in hist:
        seen += count
        if seen > k:
            return b * BIN
    return hist[-1][0] * BIN


def merge_reports(reports: list[dict]) -> dict:
    """Pool the reports of one or more processes: counts summed, samples pooled.

    Percentiles come from the summed latency histogram (never an average of
    percentiles); the worst client is the worst of all; the union is merged as sets.
    """
    hist: dict[int, int] = {}
    union: dict[str, set[int]] = {}
    for r in reports:
        for b, k in r["lat_hist"].items():
            hist[int(b)] = hist.get(int(b), 0) + k
        for sym, rs in r["union"].items():
            s = union.setdefault(sym, set())
            for a, b in rs:
                s.update(range(a, b + 1))
    pairs = sorted(hist.items())
    total = sum(hist.values())
    n = sum(r["clients"] for r in reports)
    seconds = max(r["seconds"] for r in reports) or 1e-9
    frames = sum(r["frames"] for r in reports)
    received = sum(r["updates"] for r in reports)
    distinct = sum(len(s) for s in union.values())
    worst = [r["worst_client_p99_ms"] for r in reports if r["worst_client_p99_ms"]]
    status = next((r for r in reports if r["publisher_at"]), reports[0])
    ms = lambda x: None if x is None else round(x * 1000, 2)  # noqa: E731
    return {
        "clients": n,
        "seconds": seconds,
        "frames": frames,
        "updates": received,
        "frames_per_s": round(frames / seconds, 1),
        "updates_per_s": round(received / seconds, 1),
        "p50_ms": ms(hist_percentile(pairs, total, 50)),
        "p95_ms": ms(hist_percentile(pairs, total, 95)),
        "p99_ms": ms(hist_percentile(pairs, total, 99)),
        "max_ms": ms(pairs[-1][0] * BIN) if pairs else None,
        "worst_client_p99_ms": max(worst) if worst else None,
        "seq_gaps_total": sum(r["seq_gaps_total"] for r in reports),
        "distinct_updates_any_client": distinct,
        # what at least one client got but this one did not (fan-out loss)
        "missed_vs_union": distinct * n - received,
        "clients_with_updates": sum(r["clients_with_updates"] for r in reports),
        "publisher": status["publisher"],
        "publisher_at": status["publisher_at"],
        "lat_hist": {str(b): k for b, k in pairs},
        "union": {sym: ranges(s) for sym, s in union.items()},
    }


async def open_client(url: str, rec: Recorder, rooms: list[str]) -> LoadClient:
    c = await connect(lambda h, p, o: LoadClient(h, p, o, rec, rooms), url)
    await asyncio.wait_for(asyncio.shield(c.subscribed), 60)
    return c


async def main(args) -> None:
    raise_nofile()
    rooms = [r for r in args.subscribe.split(",") if r]
    rec = Recorder()
    clients: list[LoadClient] = []
    for start in range(0, args.n, 50):  # in waves, so the accept backlog is not flooded
        batch = []
        for j in range(start, min(args.n, start + 50)):
            i = args.first + j
            want = rooms + (["system"] if i == 0 and rooms else [])
            batch.append(open_client(args.url[i % len(args.url)], rec, want))
        for res in await asyncio.gather(*batch, return_exceptions=True):
            if isinstance(res, BaseException):
                print(f"connect failed: {res!r}", file=sys.stderr, flush=True)
            else:
                clients.append(res)
    print(f"READY {len(clients)}", flush=True)
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
            rec.reset()
            for c in clients:
                c.reset()
            print("MARKED", flush=True)
        elif cmd == "REPORT":
            print("REPORT " + json.dumps(report(rec, clients, args.n)), flush=True)
        elif cmd == "QUIT":
            break
    for c in clients:
        c.close()
    if clients:
        await asyncio.wait([c.closed for c in clients], timeout=5)
    for c in clients:
        if c.transport is not None:
            c.transport.abort()


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument(
        "--url",
        action="append",
        required=True,
        help="server URL; repeat to spread clients over servers (round-robin)",
    )
    parser.add_argument("-n", type=int, default=100)
    parser.add_argument(
        "--first",
        type=int,
        default=0,
        help="index of this process's first client (client 0 also joins system)",
    )
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
