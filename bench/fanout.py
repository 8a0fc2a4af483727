"""Fan-out: tick→client latency, delivered updates/s and losses for N clients.

Every scenario starts its own processes on 127.0.0.1 and stops them:
the bench fake exchange, the server(s), and the load generator (bench/loadgen.py; one
process holding all N clients, or ``--procs K`` processes sharing them, whose reports
are pooled). The tick rate is stepped (ticks per second per symbol, 20 symbols); a step
"holds" when p99 < 100 ms and nothing was lost that conflation did not replace on
purpose:

* ours: lost = N × (prices the publisher published during the step) − updates received
  (the worker's publisher counters, read from the staff status API after the drain:
  bench/drivers.py ``StatusAPI``);
* baselines (no conflation): lost = N × ticks sent − updates received.

``--warmup`` adds a first step at the first rate that is reported but not judged: the
first second of traffic after the connections open pays for caches, JIT-less warm paths
and socket buffers growing, which a 1 Hz CPU comparison should not count.

Scenarios: ``embedded`` (manage.py serve, in-memory layer, SQLite),
``redis1``/``redis2`` (run_feeds + 1 or 2 daphne processes on Redis), ``ws`` (raw
websockets baseline), ``floor`` (the same server writing one pre-built frame with
``transport.write``: the least Python can do per socket), ``channels`` (textbook
Channels baseline).

    python -m bench.fanout --scenario embedded -n 1000 --rates 1,5,25
    python -m bench.fanout --scenario ws -n 1000 --rates 1,1 --all-steps --procs 2
"""

from __future__ import annotations

import argparse
import asyncio
import os
import tempfile
import time
from dataclasses import dataclass, field
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
from bench.drivers import LoadGen, StatusAPI
from devtools import control

P99_LIMIT_MS = 100.0
REDIS_DB = int(os.environ.get("BENCH_REDIS_DB", "11"))
SCENARIOS = ["ws", "floor", "channels", "embedded", "redis1", "redis2"]
BASELINES = ("ws", "floor", "channels")

__all__ = ["LoadGen", "SCENARIOS", "run_scenario"]  # LoadGen: soak.py imports it here


@dataclass
class Servers:
    urls: list[str]  # where the clients connect (round-robin)
    rooms: str  # what they subscribe to ("" = the server pushes to everyone)
    pids: list[int]  # whose CPU is the server's
    prefix: str | None = None  # Redis key prefix to clean up
    status: StatusAPI | None = field(default=None)  # ours: publisher counters


def _start(procs: Procs, name: str, args: list[str], env: dict, port: int) -> int:
    p = procs.start(name, args, env)
    wait_port(port, 60, proc=p)
    return p.pid


def start_servers(
    kind: str, procs: Procs, fake_port: int, tmp: Path, publish_interval: float | None
) -> Servers:
    """Start the scenario's server processes."""
    exchange = f"ws://{HOST}:{fake_port}/stream"
    feed_args = ["--providers", "binance", "--symbols", ",".join(SYMBOLS)]
    feed_args += ["--startup-window", "3600"]
    if publish_interval is not None:
        feed_args += ["--publish-interval", str(publish_interval)]
    port = free_port()
    if kind in ("ws", "floor"):
        args = [PY, "-m", "bench.baseline_websockets", "--port", str(port)]
        args += ["--exchange", exchange, *(["--floor"] if kind == "floor" else [])]
        pid = _start(procs, f"baseline-{kind}", args, base_env(), port)
        return Servers([f"ws://{HOST}:{port}/"], "", [pid])
    if kind == "channels":
        args = [PY, "-m", "daphne", "-b", HOST, "-p", str(port)]
        args += ["bench.baseline_channels:application"]
        env = base_env(BENCH_EXCHANGE_URL=exchange)
        pid = _start(procs, "baseline-channels", args, env, port)
        return Servers([f"ws://{HOST}:{port}/ws/"], "", [pid])
    db = f"sqlite:///{tmp}/bench.sqlite3"
    if kind == "embedded":
        env = base_env(DATABASE_URL=db, BINANCE_WS_URL=exchange, PRICE_FEEDS="binance")
        migrate(env)
        token = StatusAPI.create_token(env)
        args = [PY, "manage.py", "serve", "--host", HOST, "--port", str(port)]
        pid = _start(procs, "serve", [*args, *feed_args], env, port)
        return Servers(
            [f"ws://{HOST}:{port}/ws/stream/"],
            "prices",
            [pid],
            status=StatusAPI(port, token),
        )
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
    token = StatusAPI.create_token(env)
    out = Servers([], "prices", [], prefix)
    for i in range(servers):
        port = port if i == 0 else free_port()
        args = [PY, "-m", "daphne", "-b", HOST, "-p", str(port)]
        args += ["portfolio_site.asgi:application"]
        out.pids.append(_start(procs, f"daphne-{i}", args, env, port))
        out.urls.append(f"ws://{HOST}:{port}/ws/stream/")
        if out.status is None:  # the cache is Redis: any daphne serves the status
            out.status = StatusAPI(port, token)
    w = procs.start("run_feeds", [PY, "manage.py", "run_feeds", *feed_args], env)
    out.pids.append(w.pid)
    time.sleep(2)
    return out


def run_scenario(
    kind: str,
    n: int,
    rates: list[float],
    seconds: float,
    logdir: Path,
    publish_interval: float | None = None,
    stop_after_fail: bool = True,
    profile_rate: float | None = None,
    lg_procs: int = 1,
    warmup: bool = False,
) -> dict:
    """One scenario: start everything, step the rates, stop everything."""
    result = {"scenario": kind, "clients": n, "steps": [], "error": None}
    result["loadgen_procs"] = lg_procs
    plan = [(rates[0], True)] if warmup and rates else []
    plan += [(r, False) for r in rates]
    with Procs(logdir / f"{kind}-{n}") as procs, tempfile.TemporaryDirectory() as tmp:
        prefix = None
        try:
            fake_port = free_port()
            fp = procs.start("fake-exchange", fake_exchange_cmd(fake_port), base_env())
            wait_port(fake_port, proc=fp)
            srv = start_servers(kind, procs, fake_port, Path(tmp), publish_interval)
            prefix = srv.prefix
            t_conn = time.monotonic()
            lg = LoadGen(procs, srv.urls, n, srv.rooms, lg_procs)
            connected = int(lg.expect("READY ", 240))
            result["connected"] = connected
            result["connect_seconds"] = round(time.monotonic() - t_conn, 1)
            base = srv.status.wait(0) if srv.status else None
            profiled = False
            for rate, warm in plan:
                # py-spy the first step at that rate: with --warmup the warm-up, so the
                # sampler's own CPU does not land on the measured step's neighbours.
                spy = profile_rate == rate and not profiled
                profiled = profiled or spy
                step, base = run_step(
                    kind,
                    n,
                    rate,
                    seconds,
                    lg,
                    srv,
                    fake_port,
                    connected,
                    base,
                    logdir,
                    result,
                    spy,
                )
                step["warmup"] = warm
                result["steps"].append(step)
                print(
                    f"  {kind} N={n} rate={rate}/s/sym{' (warm-up)' if warm else ''}: "
                    f"p50={step['p50_ms']} p99={step['p99_ms']} ms "
                    f"upd/s={step['updates_per_s']} frames/s={step['frames_per_s']} "
                    f"lost={step['lost']} published={step.get('published')} "
                    f"conflated={step['conflated']} cpu={step['server_cpu']} "
                    f"loadgen_cpu={step['loadgen_cpu']} "
                    f"us/upd={step['server_us_per_update']} load={step['load1']} "
                    f"holds={step['holds']}",
                    flush=True,
                )
                if stop_after_fail and not warm and not step["holds"]:
                    break
            lg.quit()
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
    held = [s for s in result["steps"] if s["holds"] and not s["warmup"]]
    result["max_rate_held"] = max((s["ticks_per_s"] for s in held), default=0)
    result["max_updates_per_s_held"] = max(
        (s["updates_per_s"] for s in held), default=0
    )
    result["max_frames_per_s_held"] = max((s["frames_per_s"] for s in held), default=0)
    return result


def run_step(
    kind, n, rate, seconds, lg, srv, fake_port, connected, base, logdir, result, spy
) -> tuple[dict, dict | None]:
    """One step: tick ``rate``/s/symbol for ``seconds``, drain, account; returns the
    step and the publisher counters at its end (the next step's base)."""
    count = max(1, int(rate * seconds))
    lg.cmd("MARK", "MARKED")
    cpu0 = {pid: cpu_seconds(pid) for pid in srv.pids}
    lg0 = lg.cpu_seconds()
    t0 = time.time()
    spies = []
    if spy:
        for pid in srv.pids:
            out = logdir / f"{kind}-{n}" / f"pyspy-{pid}-{rate:g}.txt"
            spies.append((pid, out, pyspy_start(pid, seconds, out)))
    fake = asyncio.run(
        control.command(
            fake_port, {"cmd": "tick", "rate": rate, "count": count}, seconds * 10 + 60
        )
    )
    load1 = round(os.getloadavg()[0], 2)  # at the end of the ticks, before the drain
    rep = drain(lg)
    for pid, out, proc in spies:
        if proc is not None:
            proc.wait(30)
            result.setdefault("profiles", {})[f"{pid}@{rate:g}"] = summarise_collapsed(
                out
            )
    wall = time.time() - t0
    cpu = {pid: round((cpu_seconds(pid) - cpu0[pid]) / wall, 2) for pid in srv.pids}
    ticks = count * len(SYMBOLS)
    tick_s = fake["seconds"] or 1
    step = {
        "rate_per_symbol": rate,
        "ticks_per_s": rate * len(SYMBOLS),
        "ticks": ticks,
        "exchange_late_ms": fake["late_ms"],
        "server_cpu": cpu,
        "loadgen_cpu": round((lg.cpu_seconds() - lg0) / wall, 2),
        "load1": load1,
        **rep,
        "updates_per_s": round(rep["updates"] / tick_s, 1),
        "frames_per_s": round(rep["frames"] / tick_s, 1),
        # contention-robust cost: server CPU time per delivered price update
        "server_us_per_update": (
            round(sum(cpu.values()) * wall / rep["updates"] * 1e6, 1)
            if rep["updates"]
            else None
        ),
    }
    end = base
    if srv.status is not None:
        end = srv.status.wait(time.time())
        if end is None or base is None:
            step["published"] = step["conflated"] = None
            step["lost"] = None  # no counters: say so, never a fake 0
            step["unexplained_gaps"] = None
        else:
            published = end.get("published", 0) - base.get("published", 0)
            conflated = end.get("conflated", 0) - base.get("conflated", 0)
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
        p99 is not None and p99 < P99_LIMIT_MS and step["lost"] == 0 and connected == n
    )
    return step, end


def drain(lg: LoadGen, quiet: float = 1.0, cap: float = 15.0) -> dict:
    """Report once no update arrived for ``quiet`` seconds (waiting at most ``cap``)."""
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


if __name__ == "__main__":
    p = argparse.ArgumentParser()
    p.add_argument("--scenario", default="embedded", choices=SCENARIOS)
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
    p.add_argument(
        "--warmup", action="store_true", help="an unjudged first step at the first rate"
    )
    p.add_argument(
        "--procs", type=int, default=1, help="load-generator processes sharing N"
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
        lg_procs=a.procs,
        warmup=a.warmup,
    )
    for key, text in res.get("profiles", {}).items():
        print(f"--- profile {key}\n{text}")
    print(dump(res))
