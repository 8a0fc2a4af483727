"""API: p50/p99 latency and requests/s of GET /api/portfolio/ (50 holdings, token auth).

Starts the embedded app (``manage.py serve``: daphne + the feed worker, fed by the bench
fake exchange ticking 20 symbols at 1 Hz) on a fresh migrated SQLite database, creates a
user with 50 holdings and a token, then measures with a small keep-alive HTTP/1.1 client
on 127.0.0.1: (a) open loop at a fixed 50 req/s, (b) closed loop with C connections
("max"). Each phase is bounded in time and count.

    python -m bench.api --seconds 10
"""

from __future__ import annotations

import argparse
import asyncio
import subprocess
import tempfile
import threading
import time
from pathlib import Path

from bench.common import (
    HOST,
    PY,
    ROOT,
    SYMBOLS,
    Procs,
    base_env,
    dump,
    fake_exchange_cmd,
    free_port,
    migrate,
    percentile,
    pyspy_start,
    summarise_collapsed,
    wait_port,
)
from devtools import control

EXTRA = [
    "AAVE",
    "MKR",
    "COMP",
    "SNX",
    "CRV",
    "SUSHI",
    "YFI",
    "INJ",  # BAL and KNC are no longer listed on Binance (the API refuses them)
    "ZRX",
    "ENJ",
    "MANA",
    "SAND",
    "AXS",
    "CHZ",
    "GRT",
    "LRC",
    "BAT",
    "OP",
    "OMG",
    "ZEC",
    "DASH",
    "EOS",
    "XTZ",
    "ALGO",
    "VET",
    "ICP",
    "HBAR",
    "EGLD",
    "FLOW",
    "THETA",
]

SETUP = """
from decimal import Decimal
from django.contrib.auth import get_user_model
from rest_framework.authtoken.models import Token
from portfolio import services
from portfolio.models import Holding
U = get_user_model()
u, _ = U.objects.get_or_create(username="bench")
for i, s in enumerate({symbols!r}):
    if not Holding.objects.filter(owner=u, symbol=s).exists():
        services.holding_create(owner=u, symbol=s,
            amount=Decimal("1.5") + i, cost_basis=Decimal("100.25") * (i + 1))
print("TOKEN", Token.objects.get_or_create(user=u)[0].key)
"""


async def request(reader, writer, path: str, token: str) -> int:
    writer.write(
        f"GET {path} HTTP/1.1\r\nHost: {HOST}\r\nAuthorization: Token {token}\r\n"
        f"Accept: application/json\r\n\r\n".encode()
    )
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    length = 0
    for line in head.split(b"\r\n"):
        if line.lower().startswith(b"content-length:"):
            length = int(line.split(b":")[1])
    await reader.readexactly(length)
    return status


async def fixed_rate(
    port: int, token: str, rate: float, seconds: float, conns: int = 8
) -> dict:
    pool: asyncio.Queue = asyncio.Queue()
    for _ in range(conns):
        pool.put_nowait(await asyncio.open_connection(HOST, port))
    lat, errors, statuses = [], 0, {}

    async def one(scheduled: float) -> None:
        nonlocal errors
        r, w = await pool.get()
        try:
            st = await request(r, w, "/api/portfolio/", token)
            statuses[st] = statuses.get(st, 0) + 1
            lat.append(time.perf_counter() - scheduled)  # from the scheduled send time
        except Exception:  # noqa: BLE001
            errors += 1
            r, w = await asyncio.open_connection(HOST, port)
        finally:
            pool.put_nowait((r, w))

    start = time.perf_counter()
    tasks = []
    total = int(rate * seconds)
    for i in range(total):
        at = start + i / rate
        await asyncio.sleep(max(0, at - time.perf_counter()))
        tasks.append(asyncio.create_task(one(at)))
    await asyncio.wait_for(asyncio.gather(*tasks), 60)
    elapsed = time.perf_counter() - start
    return summary(lat, elapsed, errors, statuses, f"fixed {rate:g} req/s")


async def closed_loop(port: int, token: str, conns: int, seconds: float) -> dict:
    lat, errors, statuses = [], 0, {}
    deadline = time.perf_counter() + seconds

    async def worker() -> None:
        nonlocal errors
        r, w = await asyncio.open_connection(HOST, port)
        while time.perf_counter() < deadline and len(lat) < 200_000:
            t = time.perf_counter()
            try:
                st = await request(r, w, "/api/portfolio/", token)
                statuses[st] = statuses.get(st, 0) + 1
                lat.append(time.perf_counter() - t)
            except Exception:  # noqa: BLE001
                errors += 1
                r, w = await asyncio.open_connection(HOST, port)
        w.close()

    start = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(conns)))
    return summary(
        lat, time.perf_counter() - start, errors, statuses, f"max ({conns} conns)"
    )


def summary(lat, elapsed, errors, statuses, label) -> dict:
    ms = lambda x: None if x is None else round(x * 1000, 1)  # noqa: E731
    return {
        "mode": label,
        "requests": len(lat),
        "req_per_s": round(len(lat) / elapsed, 1),
        "p50_ms": ms(percentile(lat, 50)),
        "p99_ms": ms(percentile(lat, 99)),
        "max_ms": ms(max(lat) if lat else None),
        "errors": errors,
        "statuses": {str(k): v for k, v in statuses.items()},
    }


def main(seconds: float, logdir: Path, profile: bool = False) -> dict:
    with Procs(logdir / "api") as procs, tempfile.TemporaryDirectory() as tmp:
        fake_port = free_port()
        fp = procs.start(
            "fake-exchange",
            fake_exchange_cmd(fake_port),
            base_env(),
        )
        wait_port(fake_port, proc=fp)
        env = base_env(
            DATABASE_URL=f"sqlite:///{tmp}/api.sqlite3",
            BINANCE_WS_URL=f"ws://{HOST}:{fake_port}/stream",
            PRICE_FEEDS="binance",
            # The bench measures capacity, not the per-user throttle (1200/min).
            API_THROTTLE_USER="1000000/min",
        )
        migrate(env)
        out = subprocess.run(
            [PY, "manage.py", "shell", "-c", SETUP.format(symbols=SYMBOLS + EXTRA)],
            env=env,
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
        )
        token = next(
            ln.split()[1] for ln in out.stdout.splitlines() if ln.startswith("TOKEN")
        )
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

        # the worker runs and receives ticks (1 Hz per symbol) during the measurement
        def tick() -> None:
            try:
                asyncio.run(
                    control.command(
                        fake_port,
                        {"cmd": "tick", "rate": 1, "count": int(seconds * 2 + 15)},
                        600,
                    )
                )
            except Exception:  # noqa: BLE001 - the fake is stopped at the end
                pass

        ticker = threading.Thread(target=tick, daemon=True)
        ticker.start()
        time.sleep(2)
        warm = asyncio.run(closed_loop(port, token, 2, 2))
        check = warm["statuses"]
        spy_out = logdir / "api" / "pyspy-fixed.txt"
        spy = pyspy_start(p.pid, seconds, spy_out) if profile else None
        fixed = asyncio.run(fixed_rate(port, token, 50, seconds))
        if spy is not None:
            spy.wait(30)
        peak = asyncio.run(closed_loop(port, token, 8, seconds))
        result = {"warmup_statuses": check, "results": [fixed, peak]}
        if spy is not None:
            result["profile"] = summarise_collapsed(spy_out)
        return result


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=float, default=10)
    ap.add_argument("--logs", default="/tmp/bench-logs")
    ap.add_argument("--profile", action="store_true", help="py-spy the fixed phase")
    a = ap.parse_args()
    res = main(a.seconds, Path(a.logs), a.profile)
    print(res.pop("profile", ""))
    print(dump(res))
