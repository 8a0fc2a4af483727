"""Run every benchmark with modest defaults (≈ 10–12 min) and write docs/benchmarks.md.

    python -m bench.run_all                       # what `make bench` runs
    python -m bench.run_all --soak-minutes 10     # the issue's full soak
    python -m bench.run_all --only fanout -n 1000
    python -m bench.run_all --render docs/benchmarks.json   # re-write the report only

Scenarios start and stop their own processes on 127.0.0.1 (see each module's docstring);
raw results also go to docs/benchmarks.json, and the whole report is rendered from that
one run (bench/report.py). Human analysis of a run (causes, profiles, fixes) lives in
bench/ANALYSIS.md and is copied into the report verbatim.

Why the fan-out is run the way it is: at N = 1,000 every scenario (raw websockets, the
floor, textbook Channels, ours embedded, ours on Redis with 1 and 2 daphne) gets a
warm-up step at 1 Hz per symbol, then the measured 1 Hz step, which is what the CPU and
latency targets compare (one run, same machine state, so the ratios mean something
even when other work shares the cores), then the higher rates for the throughput
table, stopping at the first step that does not hold. N = 100 runs the cheaper
stepped comparison only.
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

from bench import api, fanout, ingest, soak
from bench.common import ROOT, SYMBOLS, machine_info, redis_available, versions
from bench.report import write_report

SMALL = ["ws", "channels", "embedded"]  # N < 1,000
BIG = ["ws", "floor", "channels", "embedded"]  # + redis1, redis2 when Redis is up
PROFILED = ("embedded", "channels")  # py-spy in their 1 Hz warm-up step


def run_ingest(runs: int, frames: int = 100_000) -> dict:
    """Ingest frames per CPU second: the median of ``runs`` runs (ingest.main's repeat).

    The returned dict is the median run's, plus ``runs_frames_per_s``,
    ``median_frames_per_s`` and ``best_frames_per_s``.
    """
    out = ingest.main(frames, repeat=max(1, runs))
    out["runs_frames_per_s"] = out.pop("runs")
    out["median_frames_per_s"] = out["frames_per_s"]
    out["best_frames_per_s"] = out.pop("best")
    return out


def run_fanout(a, logs: Path) -> list[dict]:
    rates = [float(r) for r in a.rates.split(",")]
    results = []
    for n in (int(x) for x in a.n.split(",")):
        big = n >= 1000
        redis = ["redis1", "redis2"] if big and redis_available() else []
        kinds = (BIG + redis) if big else SMALL
        for kind in kinds:
            print(f"fanout {kind} N={n} ...", flush=True)
            results.append(
                fanout.run_scenario(
                    kind,
                    n,
                    [1.0, *(r for r in rates if r != 1.0)] if big else rates,
                    a.seconds,
                    logs,
                    publish_interval=None
                    if kind in fanout.BASELINES
                    else a.publish_interval,
                    profile_rate=1.0 if big and kind in PROFILED else None,
                    lg_procs=a.procs,
                    warmup=big,
                )
            )
    return results


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--only", default="ingest,fanout,api,soak")
    ap.add_argument("-n", default="100,1000", help="client counts for the fan-out")
    ap.add_argument(
        "--rates",
        default="1,2,5,10,25,50",
        help="ticks/s per symbol, stepped (N ≥ 1,000 starts with warm-up + 1 Hz)",
    )
    ap.add_argument(
        "--seconds", type=float, default=4.0, help="seconds of ticks per step"
    )
    ap.add_argument(
        "--procs", type=int, default=1, help="load-generator processes per scenario"
    )
    ap.add_argument("--publish-interval", type=float, default=0.05)
    ap.add_argument("--ingest-runs", type=int, default=5, help="median of this many")
    ap.add_argument("--soak-minutes", type=float, default=2.0)
    ap.add_argument("--soak-rate", type=float, default=10.0)
    ap.add_argument("--api-seconds", type=float, default=10.0)
    ap.add_argument(
        "--include-soak", help="JSON from a separate `python -m bench.soak` run"
    )
    ap.add_argument("--out", default=str(ROOT / "docs" / "benchmarks.md"))
    ap.add_argument("--logs", default="/tmp/bench-logs")
    ap.add_argument("--render", help="only re-write the report from this results JSON")
    a = ap.parse_args()
    if a.render:
        write_report(json.loads(Path(a.render).read_text()), Path(a.out))
        return
    only = set(a.only.split(","))
    logs = Path(a.logs)
    start = time.monotonic()
    res: dict = {
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "command": "python -m bench.run_all " + shlex.join(sys.argv[1:]),
        "machine": machine_info(),
        "versions": versions(),
        "publish_interval": a.publish_interval,
        "symbols": len(SYMBOLS),
    }
    out = Path(a.out)
    out.parent.mkdir(parents=True, exist_ok=True)

    def part(name: str, run) -> None:
        # One failing part must not lose the others' minutes of measurement:
        # its error is reported, and the results so far are saved after each.
        try:
            res[name] = run()
        except Exception as exc:  # noqa: BLE001 - reported in the results
            res[f"{name}_error"] = repr(exc)
            print(f"  {name} FAILED: {exc!r}", flush=True)
        out.with_suffix(".json").write_text(json.dumps(res, indent=1, default=str))

    if "ingest" in only:
        print(f"ingest x{a.ingest_runs} ...", flush=True)
        part("ingest", lambda: run_ingest(a.ingest_runs))
        if "ingest" in res:
            print(
                f"  median {res['ingest']['median_frames_per_s']} frames/s "
                f"(runs {res['ingest']['runs_frames_per_s']})",
                flush=True,
            )
    if "fanout" in only:
        part("fanout", lambda: run_fanout(a, logs))
    if "api" in only:
        print("api ...", flush=True)
        part("api", lambda: api.main(a.api_seconds, logs))
    if "soak" in only:
        print(f"soak {a.soak_minutes} min ...", flush=True)
        part("soak", lambda: soak.main(a.soak_minutes, a.soak_rate, 200, logs))
    if a.include_soak:
        res["soak_extra"] = json.loads(Path(a.include_soak).read_text())
    res["seconds"] = time.monotonic() - start
    res["load_after"] = " ".join(f"{x:.2f}" for x in os.getloadavg())
    out.with_suffix(".json").write_text(json.dumps(res, indent=1, default=str))
    write_report(res, out)
    print(f"wrote {out} in {res['seconds']:.0f} s", flush=True)


if __name__ == "__main__":
    main()
