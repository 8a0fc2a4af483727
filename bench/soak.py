"""Soak: the worker and one server (embedded ``manage.py serve``) at a high tick rate
with 200 clients for a bounded duration; RSS of the server process sampled every 10
s; the slope (least squares, MB per minute) after a warm-up is the result.

    python -m bench.soak --minutes 10 --rate 10 -n 200
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import threading
import time
from pathlib import Path

from bench.common import (
    HOST,
    PY,
    SYMBOLS,
    Procs,
    base_env,
    dump,
    fake_exchange_cmd,
    free_port,
    migrate,
    rss_mb,
    wait_port,
)
from bench.fanout import LoadGen
from devtools import control


def slope(points: list[tuple[float, float]]) -> float | None:
    if len(points) < 3:
        return None
    n = len(points)
    mx = sum(p[0] for p in points) / n
    my = sum(p[1] for p in points) / n
    sxx = sum((p[0] - mx) ** 2 for p in points)
    return sum((p[0] - mx) * (p[1] - my) for p in points) / sxx if sxx else None


def main(
    minutes: float,
    rate: float,
    n: int,
    logdir: Path,
    every: float = 10.0,
    warmup: float = 30.0,
) -> dict:
    seconds = minutes * 60
    with Procs(logdir / "soak") as procs, tempfile.TemporaryDirectory() as tmp:
        fake_port = free_port()
        fp = procs.start(
            "fake-exchange",
            fake_exchange_cmd(fake_port),
            base_env(),
        )
        wait_port(fake_port, proc=fp)
        env = base_env(
            DATABASE_URL=f"sqlite:///{tmp}/soak.sqlite3",
            BINANCE_WS_URL=f"ws://{HOST}:{fake_port}/stream",
            PRICE_FEEDS="binance",
        )
        migrate(env)
        port = free_port()
        p = procs.start(
            "serve",
            [
                PY,
                "manage.py",
                "serve",
                "--host",
                HOST,
                "--port",
                str(port),
                "--providers",
                "binance",
                "--symbols",
                ",".join(SYMBOLS),
                "--startup-window",
                "3600",
            ],
            env,
        )
        wait_port(port, 60, proc=p)
        lg = LoadGen(procs, [f"ws://{HOST}:{port}/ws/stream/"], n, "prices")
        connected = int(lg.expect("READY ", 120))

        def tick() -> None:
            try:
                asyncio.run(
                    control.command(
                        fake_port,
                        {"cmd": "tick", "rate": rate, "count": int(rate * seconds)},
                        seconds + 120,
                    )
                )
            except Exception:  # noqa: BLE001
                pass

        lg.cmd("MARK", "MARKED")
        threading.Thread(target=tick, daemon=True).start()
        start = time.monotonic()
        samples = []
        while time.monotonic() - start < seconds:
            samples.append(
                (round(time.monotonic() - start, 1), round(rss_mb(p.pid), 2))
            )
            time.sleep(min(every, max(0.0, seconds - (time.monotonic() - start))))
        samples.append((round(time.monotonic() - start, 1), round(rss_mb(p.pid), 2)))
        rep = lg.report()
        after = [(t / 60, mb) for t, mb in samples if t >= warmup]
        s = slope(after)
        return {
            "minutes": minutes,
            "ticks_per_s": rate * len(SYMBOLS),
            "clients": connected,
            "samples": samples,
            "slope_mb_per_min": None if s is None else round(s, 3),
            "rss_start_mb": samples[0][1],
            "rss_end_mb": samples[-1][1],
            "delivery": {
                k: rep[k]
                for k in ("updates_per_s", "p50_ms", "p99_ms", "missed_vs_union")
            },
        }


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--minutes", type=float, default=2)
    ap.add_argument(
        "--rate", type=float, default=10, help="ticks/s per symbol (20 symbols)"
    )
    ap.add_argument("-n", type=int, default=200)
    ap.add_argument("--logs", default="/tmp/bench-logs")
    a = ap.parse_args()
    print(dump(main(a.minutes, a.rate, a.n, Path(a.logs))))
