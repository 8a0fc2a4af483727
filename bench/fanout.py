"""Fan-out: tick→client latency, delivered updates/s and losses for N clients.

Every scenario starts its own processes on 127.0.0.1 and stops them:
the bench fake exchange, the server(s), and ONE separate load-generator process
(bench/loadgen.py) holding all N clients. The tick rate is stepped (ticks per second per
symbol, 20 symbols); a step "holds" when p99 < 100 ms and nothing was lost that conflation
did not replace on purpose:

* ours: lost = N × (prices the publisher published during the step) − updates received
  (publisher counters from the worker's ``system_status`` frames, read after the drain);
* baselines (no conflation): lost = N × ticks sent − updates received.

Scenarios: ``embedded`` (manage.py serve, in-memory layer, SQLite), ``redis1``/``redis2``
(run_feeds + 1 or 2 daphne processes on Redis), ``ws`` (raw websockets baseline),
``channels`` (textbook Channels baseline).

    python -m bench.fanout --scenario embedded -n 1000 --rates 1,5,25
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import tempfile
import time
from pathlib import Path

from bench.common import (
    HOST,
    PY,
    SYMBOLS,
    Procs,
    base_env,
    cpu_seconds,
    dump,
    fake_exchange_cmd,
    free_port,
    migrate,
    pyspy_start,
    summarise_collapsed,
    wait_port,
)
from devtools import control

P99_LIMIT_MS = 100.0
REDIS_DB = int(os.environ.get("BENCH_REDIS_DB", "11"))


class LoadGen:
    def __init__(self, procs: Procs, urls: list[str], n: int, rooms: str) -> None:
        args = [PY, "-m", "bench.loadgen", "-n", str(n), "--subscribe", rooms]
        for url in urls:
            args += ["--url", url]
        self.proc = procs.start(
            f"loadgen-{n}",
            args,
            base_env(),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            bufsize=1,
        )

    def expect(self, prefix: str, timeout: float = 180) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            line = self.proc.stdout.readline()
            if not line:
                raise RuntimeError("load generator exited")
            if line.startswith(prefix):
                return line[len(prefix) :].strip()
        raise TimeoutError(prefix)

    def cmd(self, command: str, reply: str) -> str:
        self.proc.stdin.write(command + "\n")
        self.proc.stdin.flush()
        return self.expect(reply, 60)

    def report(self) -> dict:
        return json.loads(self.cmd("REPORT", "REPORT "))


def start_servers(
    kind: str, procs: Procs, fake_port: int, tmp: Path, publish_interval: float | None
) -> tuple[list[str], str, list[int], str | None]:
    """Start the scenario's server processes; returns (client urls, rooms, pids, redis prefix)."""
    exchange = f"ws://{HOST}:{fake_port}/stream"
    symbols = ",".join(SYMBOLS)
    feed_args = [
        "--providers",
        "binance",
        "--symbols",
        symbols,
        "--startup-window",
        "3600",
    ]
    if publish_interval is not None:
        feed_args += ["--publish-interval", str(publish_interval)]
    if kind in ("ws", "floor"):
        port = free_port()
        p = procs.start(
            f"baseline-{kind}",
            [
                PY,
                "-m",
                "bench.baseline_websockets",
                "--port",
                str(port),
                "--exchange",
                exchange,
                *(["--floor"] if kind == "floor" else []),
            ],
            base_env(),
        )
        wait_port(port, proc=p)
        return [f"ws://{HOST}:{port}/"], "", [p.pid], None
    if kind == "channels":
        port = free_port()
        env = base_env(BENCH_EXCHANGE_URL=exchange)
        p = procs.start(
            "baseline-channels",
            [
                PY,
                "-m",
                "daphne",
                "-b",
                HOST,
                "-p",
                str(port),
                "bench.baseline_channels:application",
            ],
            env,
        )
        wait_port(port, proc=p)
        return [f"ws://{HOST}:{port}/ws/"], "", [p.pid], None
    db = f"sqlite:///{tmp}/bench.sqlite3"
    if kind == "embedded":
        env = base_env(DATABASE_URL=db, BINANCE_WS_URL=exchange, PRICE_FEEDS="binance")
        migrate(env)
        port = free_port()
        p = procs.start(
            "serve",
            [PY, "manage.py", "serve", "--host", HOST, "--port", str(port), *feed_args],
            env,
        )
        wait_port(port, 60, proc=p)
        return [f"ws://{HOST}:{port}/ws/stream/"], "prices", [p.pid], None
    servers = {"redis1": 1, "redis2": 2}[kind]
    prefix = f"bench{os.getpid()}x{int(time.time())}"
    env = base_env(
        DATABASE_URL=db,
        BINANCE_WS_URL=exchange,
        PRICE_FEEDS="binance",
        REDIS_URL=f"redis://{HOST}:6379/{REDIS_DB}",
        CHANNEL_LAYER_PREFIX=prefix,
    )
    migrate(env)
    urls, pids = [], []
    for i in range(servers):
        port = free_port()
        p = procs.start(
            f"daphne-{i}",
            [
                PY,
                "-m",
                "daphne",
                "-b",
                HOST,
                "-p",
                str(port),
                "portfolio_site.asgi:application",
            ],
            env,
        )
        wait_port(port, 60, proc=p)
        urls.append(f"ws://{HOST}:{port}/ws/stream/")
        pids.append(p.pid)
    w = procs.start("run_feeds", [PY, "manage.py", "run_feeds", *feed_args], env)
    pids.append(w.pid)
    time.sleep(2)
    return urls, "prices", pids, prefix


def run_scenario(
    kind: str,
    n: int,
    rates: list[float],
    seconds: float,
    logdir: Path,
    publish_interval: float | None = None,
    stop_after_fail: bool = True,
    profile_rate: float | None = None,
) -> dict:
    ours = kind not in ("ws", "floor", "channels")
    result = {"scenario": kind, "clients": n, "steps": [], "error": None}
    with Procs(logdir / f"{kind}-{n}") as procs, tempfile.TemporaryDirectory() as tmp:
        prefix = None
        try:
            fake_port = free_port()
            fp = procs.start(
                "fake-exchange",
                fake_exchange_cmd(fake_port),
                base_env(),
            )
            wait_port(fake_port, proc=fp)
            urls, rooms, pids, prefix = start_servers(
                kind, procs, fake_port, Path(tmp), publish_interval
            )
            t_conn = time.monotonic()
            lg = LoadGen(procs, urls, n, rooms)
            connected = int(lg.expect("READY ", 240))
            result["connected"] = connected
            result["connect_seconds"] = round(time.monotonic() - t_conn, 1)
            base = None
            if ours:
                base = wait_status(lg, time.time() - 3600)
            for rate in rates:
                count = max(1, int(rate * seconds))
                lg.cmd("MARK", "MARKED")
                watch = [*pids, lg.proc.pid]
                cpu0 = {pid: cpu_seconds(pid) for pid in watch}
                t0 = time.time()
                spies = []
                if profile_rate == rate:
                    for pid in pids:
                        out = logdir / f"{kind}-{n}" / f"pyspy-{pid}-{rate:g}.txt"
                        spies.append((pid, out, pyspy_start(pid, seconds, out)))
                fake = asyncio.run(
                    control.command(
                        fake_port,
                        {"cmd": "tick", "rate": rate, "count": count},
                        seconds * 10 + 60,
                    )
                )
                rep = drain(lg)
                for pid, out, spy in spies:
                    if spy is not None:
                        spy.wait(30)
                        result.setdefault("profiles", {})[f"{pid}@{rate:g}"] = (
                            summarise_collapsed(out)
                        )
                wall = time.time() - t0
                cpu = {
                    pid: round((cpu_seconds(pid) - cpu0[pid]) / wall, 2)
                    for pid in watch
                }
                lg_cpu = cpu.pop(lg.proc.pid)
                ticks = count * len(SYMBOLS)
                step = {
                    "rate_per_symbol": rate,
                    "ticks_per_s": rate * len(SYMBOLS),
                    "ticks": ticks,
                    "exchange_late_ms": fake["late_ms"],
                    "server_cpu": cpu,
                    "loadgen_cpu": lg_cpu,
                    **rep,
                }
                step["updates_per_s"] = round(
                    rep["updates"] / (fake["seconds"] or 1), 1
                )
                step["frames_per_s"] = round(rep["frames"] / (fake["seconds"] or 1), 1)
                # contention-robust cost: server CPU time per delivered price update
                step["server_us_per_update"] = (
                    round(sum(cpu.values()) * wall / rep["updates"] * 1e6, 1)
                    if rep["updates"]
                    else None
                )
                if ours:
                    end = wait_status(lg, time.time())
                    published = (end or {}).get("published", 0) - (base or {}).get(
                        "published", 0
                    )
                    conflated = (end or {}).get("conflated", 0) - (base or {}).get(
                        "conflated", 0
                    )
                    base = end
                    step["published"] = published
                    step["conflated"] = conflated
                    step["lost"] = max(0, connected * published - rep["updates"])
                    step["unexplained_gaps"] = max(
                        0, rep["seq_gaps_total"] - connected * conflated
                    )
                else:
                    step["conflated"] = 0
                    step["lost"] = max(0, connected * ticks - rep["updates"])
                p99 = rep["p99_ms"]
                step["holds"] = bool(
                    p99 is not None
                    and p99 < P99_LIMIT_MS
                    and step["lost"] == 0
                    and connected == n
                )
                result["steps"].append(step)
                print(
                    f"  {kind} N={n} rate={rate}/s/sym: p50={rep['p50_ms']} p99={p99} ms "
                    f"upd/s={step['updates_per_s']} frames/s={step['frames_per_s']} "
                    f"lost={step['lost']} conflated={step['conflated']} cpu={cpu} "
                    f"loadgen_cpu={step['loadgen_cpu']} us/upd={step['server_us_per_update']} "
                    f"holds={step['holds']}",
                    flush=True,
                )
                if stop_after_fail and not step["holds"]:
                    break
            try:
                lg.cmd("QUIT", "__never__")
            except Exception:  # noqa: BLE001
                pass
        except Exception as exc:  # noqa: BLE001
            result["error"] = repr(exc)
            print(f"  {kind} N={n}: ERROR {exc!r}", flush=True)
        finally:
            procs.stop_all()
            if prefix:
                from bench.common import redis_cleanup

                try:
                    redis_cleanup(REDIS_DB, prefix)
                except Exception:  # noqa: BLE001
                    pass
    held = [s for s in result["steps"] if s["holds"]]
    result["max_rate_held"] = max((s["ticks_per_s"] for s in held), default=0)
    result["max_updates_per_s_held"] = max(
        (s["updates_per_s"] for s in held), default=0
    )
    result["max_frames_per_s_held"] = max((s["frames_per_s"] for s in held), default=0)
    return result


def drain(lg: LoadGen, quiet: float = 1.0, cap: float = 15.0) -> dict:
    """Wait until no update arrived for ``quiet`` seconds (at most ``cap``), then report."""
    deadline = time.monotonic() + cap
    time.sleep(quiet)
    rep = lg.report()
    while time.monotonic() < deadline:
        time.sleep(quiet)
        again = lg.report()
        if again["updates"] == rep["updates"]:
            return again
        rep = again
    return rep


def wait_status(lg: LoadGen, after: float, timeout: float = 7.0) -> dict | None:
    """Publisher counters from a system_status frame received after ``after``."""
    deadline = time.monotonic() + timeout
    rep = lg.report()
    while rep["publisher_at"] <= after and time.monotonic() < deadline:
        time.sleep(0.5)
        rep = lg.report()
    return rep["publisher"]


if __name__ == "__main__":
    p = argparse.ArgumentParser()
    p.add_argument(
        "--scenario",
        default="embedded",
        choices=["embedded", "redis1", "redis2", "ws", "floor", "channels"],
    )
    p.add_argument("-n", type=int, default=100)
    p.add_argument(
        "--rates", default="1,5,25", help="ticks per second per symbol, stepped"
    )
    p.add_argument(
        "--seconds", type=float, default=5.0, help="seconds of ticks per step"
    )
    p.add_argument(
        "--all-steps", action="store_true", help="do not stop at the first miss"
    )
    p.add_argument("--logs", default="/tmp/bench-logs")
    p.add_argument("--publish-interval", type=float, default=None)
    p.add_argument(
        "--profile-rate",
        type=float,
        default=None,
        help="py-spy the server processes during the step at this rate",
    )
    a = p.parse_args()
    res = run_scenario(
        a.scenario,
        a.n,
        [float(r) for r in a.rates.split(",")],
        a.seconds,
        Path(a.logs),
        publish_interval=a.publish_interval,
        stop_after_fail=not a.all_steps,
        profile_rate=a.profile_rate,
    )
    for key, text in res.get("profiles", {}).items():
        print(f"--- profile {key}\n{text}")
    print(dump(res))
