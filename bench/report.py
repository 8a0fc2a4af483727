"""docs/benchmarks.md from one results dict (what bench/run_all.py collected).

Kept apart from run_all.py so a results JSON can be re-rendered without running
anything (``python -m bench.run_all --render docs/benchmarks.json``) and so each module
stays readable; the Targets table and its ratios are in bench/targets.py. Every number
in the report comes from the one run in the JSON; the hand-written bench/ANALYSIS.md is
appended verbatim.
"""

from __future__ import annotations

import json
from pathlib import Path

from bench.common import ROOT
from bench.targets import NAMES, ORDER, best, fmt, ratio, step_at, targets, us1

HOW_MEASURED = """
How the fan-out is measured: the fake Binance (`devtools/`, `--control` mode) sends
Binance combined-stream `24hrTicker` frames for 20 symbols, round-robin at a controlled
rate, with `E` = send time (ms) and a per-symbol sequence in `v`; a separate load
generator (`bench/loadgen.py`: a minimal hand-written RFC 6455 client on asyncio
protocols, `bench/ws_client.py`, no compression; one process unless `--procs`, whose
reports are pooled) holds all N clients subscribed to `prices` and computes, per price
in every frame, receive time − exchange event time. Lost = for ours N × prices the
publisher published in the step − updates received (publisher counters from the
worker's full status, `GET /api/streams/status/` as staff); for the baselines N × ticks
− updates received. Each N = 1,000 scenario starts with an unjudged warm-up step at
1 Hz, then the measured 1 Hz step (the CPU comparison), then the higher rates. Ours
runs with `--publish-interval {interval}` (per-symbol conflation interval; with the
default 0.25 s the newest price of a symbol ticking faster than 4/s waits up to 250 ms
on purpose, which no p99 < 100 ms criterion can hold; at ≤ 4 ticks/s per symbol,
including the 1 Hz latency rows, the two settings behave identically: leading edge, no
wait).
"""


def fanout_section(results: list[dict], n: int) -> list[str]:
    by = {r["scenario"]: r for r in results if r["clients"] == n}
    if not by:
        return []
    ws, fl, ch = by.get("ws"), by.get("floor"), by.get("channels")
    out = [
        f"### Fan-out, N = {n:,} clients, 20 symbols",
        "",
        "| scenario | highest tick rate held (ticks/s) | price updates/s delivered "
        "there | frames/s there | updates/s ×raw websockets | updates/s ×textbook "
        "Channels | p50 / p95 / p99 at 1 Hz/symbol (ms) | lost at 1 Hz | server CPU µs "
        "per delivered update at 1 Hz | CPU efficiency ×raw / ×floor / ×Channels |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for key in ORDER:
        r = by.get(key)
        if r is None:
            continue
        one = step_at(r, 1.0) or {}
        b = best(r)
        upd = b.get("updates_per_s", 0)
        wsu = best(ws).get("updates_per_s", 0)
        chu = best(ch).get("updates_per_s", 0)
        eff = f"{ratio(us1(ws), us1(r))} / {ratio(us1(fl), us1(r))} / "
        eff += ratio(us1(ch), us1(r))
        out.append(
            f"| {NAMES[key]} | {fmt(b.get('ticks_per_s', 0))} | {fmt(upd)} | "
            f"{fmt(b.get('frames_per_s', 0))} | "
            f"{ratio(upd, wsu) if key != 'ws' else '1×'} | "
            f"{ratio(upd, chu) if key != 'channels' else '1×'} | "
            f"{fmt(one.get('p50_ms'))} / {fmt(one.get('p95_ms'))} / "
            f"{fmt(one.get('p99_ms'))} | {fmt(one.get('lost'))} | "
            f"{fmt(us1(r))} | {eff} |"
            + (f" error: {r['error']}" if r.get("error") else "")
        )
    out += [
        "",
        "Steps (a step holds when p99 < 100 ms, nothing lost beyond conflation, all "
        "clients connected; stepping stops at the first miss; the warm-up step is "
        "shown but not judged; published = prices our publisher sent in the step, from "
        "the worker's status; load = 1-minute load average at the end of the step):",
        "",
        "| scenario | ticks/s | updates/s | frames/s | p50 | p95 | p99 "
        "| worst client p99 | published | lost | conflated | server CPU (cores) "
        "| server µs/update "
        "| load-gen CPU (procs) | load | holds |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for key in ORDER:
        r = by.get(key)
        if r is None:
            continue
        for s in r["steps"]:
            cpu = "+".join(f"{c:.2f}" for c in s["server_cpu"].values())
            warm = s.get("warmup")
            out.append(
                f"| {key}{' (warm-up)' if warm else ''} | {fmt(s['ticks_per_s'])} | "
                f"{fmt(s['updates_per_s'])} | {fmt(s['frames_per_s'])} | "
                f"{fmt(s['p50_ms'])} | {fmt(s['p95_ms'])} | {fmt(s['p99_ms'])} | "
                f"{fmt(s['worst_client_p99_ms'])} | {fmt(s.get('published'))} | "
                f"{fmt(s['lost'])} | {fmt(s['conflated'])} | {cpu} | "
                f"{fmt(s.get('server_us_per_update'))} | "
                f"{s['loadgen_cpu']:.2f} ({r.get('loadgen_procs', 1)}) | "
                f"{fmt(s.get('load1'))} | "
                f"{'—' if warm else 'yes' if s['holds'] else 'no'} |"
            )
    out.append("")
    for key in ("embedded", "channels", "redis1", "redis2"):
        for name, text in (by.get(key) or {}).get("profiles", {}).items():
            out += [
                f"py-spy, {NAMES[key]}, pid@rate {name} (N = {n:,}):",
                "",
                "```",
                text,
                "```",
                "",
            ]
    return out


def conditions(res: dict) -> list[str]:
    """What else the machine did: load averages, and the load generator's own CPU."""
    m = res["machine"]
    steps = [s for r in res.get("fanout", []) for s in r["steps"]]
    loads = [s["load1"] for s in steps if s.get("load1") is not None]
    lg = [s["loadgen_cpu"] for s in steps if s.get("loadgen_cpu") is not None]
    out = [
        f"- Load average before / after the run: {m['load']} / {res['load_after']}"
        + (
            f"; 1-minute load at the end of the fan-out steps: {min(loads):.2f}–"
            f"{max(loads):.2f}"
            if loads
            else ""
        )
        + ". Other work shares this machine; the load generator and the fake exchange "
        "run on the same cores as the servers, so a load well above the servers' + "
        "load generator's CPU means the latencies are inflated by someone else."
    ]
    if lg:
        out.append(
            f"- Load-generator CPU during the fan-out steps: "
            f"{min(lg):.2f}–{max(lg):.2f} core (sum over its processes; per step in "
            "the steps tables)."
        )
    return out


def write_report(res: dict, path: Path) -> None:
    m, v = res["machine"], res["versions"]
    lines = [
        "# Benchmarks",
        "",
        f"Run {res['date']} by `{res['command']}` in {res['seconds']:.0f} s. "
        "Generated by `bench/run_all.py`; raw numbers in `docs/benchmarks.json`.",
        "",
        "## Machine and versions",
        "",
        f"- CPU: {m['cpu']}, {m['cores']} cores; RAM {m['ram']}; {m['os']}",
        *conditions(res),
        "- " + ", ".join(f"{k} {val}" for k, val in v.items()),
        "",
        "## Commands",
        "",
        "```",
        "make bench                                   # = python -m bench.run_all",
        "python -m bench.ingest --frames 100000",
        "python -m bench.fanout --scenario ws|floor|embedded -n 1000 --rates 1,1 "
        "--seconds 5 --publish-interval 0.05 --all-steps   # warm-up + 1 Hz",
        "python -m bench.fanout --scenario embedded -n 1000 --warmup "
        "--rates 1,2,5,10,25,50 --publish-interval 0.05",
        "python -m bench.fanout --scenario channels|redis1|redis2 -n 1000 ... "
        "[--procs 2]",
        "python -m bench.api --seconds 10",
        "python -m bench.soak --minutes 10 --rate 10 -n 200",
        "```",
        "",
        " ".join(HOW_MEASURED.format(interval=res["publish_interval"]).split()),
        "",
    ]
    lines += targets(res)
    if "ingest" in res:
        i = res["ingest"]
        runs = i.get("runs_frames_per_s") or [i["frames_per_s"]]
        lines += [
            "## Ingest (one core, no network)",
            "",
            f"{len(runs)} runs: " + ", ".join(fmt(r) for r in runs) + " frames/s; "
            "the median run:",
            "",
            "| frames | seconds | frames/s | µs/frame | prices offered | bus drops |",
            "|---|---|---|---|---|---|",
            f"| {fmt(i['frames'])} | {i['seconds']} | {fmt(i['frames_per_s'])} | "
            f"{i['us_per_frame']} | {fmt(i['offered'])} | {i['bus_dropped']} |",
            "",
            "cProfile (30,000 frames, sorted by own time):",
            "",
            "```",
            i.get("profile", ""),
            "```",
            "",
        ]
    if res.get("fanout"):
        lines += ["## Fan-out", ""]
        for n in sorted({r["clients"] for r in res["fanout"]}):
            lines += fanout_section(res["fanout"], n)
    if "api" in res:
        lines += [
            "## API: GET /api/portfolio/ (50 holdings, token auth, worker running)",
            "",
            "| mode | requests | req/s | p50 ms | p99 ms | max ms | errors |",
            "|---|---|---|---|---|---|---|",
        ]
        for r in res["api"]["results"]:
            lines.append(
                f"| {r['mode']} | {fmt(r['requests'])} | {fmt(r['req_per_s'])} | "
                f"{fmt(r['p50_ms'])} | {fmt(r['p99_ms'])} | {fmt(r['max_ms'])} | "
                f"{r['errors']} |"
            )
        lines.append("")
    for sk in ("soak", "soak_extra"):
        s = res.get(sk)
        if not s:
            continue
        lines += [
            f"## Soak ({fmt(s['minutes'])} min, {fmt(s['ticks_per_s'])} ticks/s, "
            f"{s['clients']} clients, embedded serve)",
            "",
            f"RSS {s['rss_start_mb']} → {s['rss_end_mb']} MB; slope after 30 s warm-up "
            f"**{fmt(s['slope_mb_per_min'])} MB/min**; delivery during the soak: "
            f"{json.dumps(s['delivery'])}.",
            "",
            "Samples (s, MB): " + ", ".join(f"{t:g}:{mb}" for t, mb in s["samples"]),
            "",
        ]
    analysis = ROOT / "bench" / "ANALYSIS.md"
    if analysis.exists():
        lines += [analysis.read_text()]
    path.write_text("\n".join(lines) + "\n")
