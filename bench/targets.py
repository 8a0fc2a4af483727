"""What a run is judged on: the Targets table of docs/benchmarks.md, and the helpers
that read a results dict (bench/run_all.py) for it and for bench/report.py.

Ratios are "×raw" = raw websockets' server CPU µs per delivered update ÷ this
scenario's (higher is better, 1.0× = as cheap as the raw library) and "×floor" the same
against the floor server (one pre-built frame written with ``transport.write`` per
socket: the least a Python server can do per socket). Every figure compared comes from
the same run, so machine load that other work adds hits both sides of a ratio.
"""

from __future__ import annotations

TARGET_P99_1HZ = 50.0
TARGET_INGEST = 100_000
TARGET_API_P99 = 50.0
TARGET_SOAK_SLOPE = 0.5  # MB/min after warm-up counts as "no growth"
TARGET_CPU = {"embedded": 1.0, "redis2": 0.9}  # server CPU per update, ×raw at least
ORDER = ("ws", "floor", "channels", "embedded", "redis1", "redis2")
NAMES = {
    "ws": "baseline: raw websockets",
    "floor": "baseline: floor (pre-built frame, transport.write)",
    "channels": "baseline: textbook Channels",
    "embedded": "ours: embedded (serve, in-memory layer)",
    "redis1": "ours: run_feeds + 1 daphne (Redis)",
    "redis2": "ours: run_feeds + 2 daphne (Redis)",
}


def fmt(v, unit: str = "") -> str:
    if v is None:
        return "—"
    if isinstance(v, float):
        v = f"{v:,.1f}" if abs(v) >= 10 else f"{v:.2f}"
    elif isinstance(v, int):
        v = f"{v:,}"
    return f"{v}{unit}"


def ratio(a, b) -> str:
    if not a or not b:
        return "n/a"
    return f"{a / b:.2f}×"


def judged(res: dict | None) -> list[dict]:
    """The steps that count: every step but the warm-up."""
    return [s for s in (res or {}).get("steps", []) if not s.get("warmup")]


def best(res: dict | None) -> dict:
    """The held step with the highest tick rate (empty dict if none held)."""
    held = [s for s in judged(res) if s["holds"]]
    return max(held, key=lambda s: s["ticks_per_s"]) if held else {}


def step_at(res: dict | None, rate: float, warm: bool = False) -> dict | None:
    """The measured (or, with ``warm``, the warm-up) step at ``rate``."""
    steps = (res or {}).get("steps", [])
    return next(
        (
            s
            for s in steps
            if s["rate_per_symbol"] == rate and bool(s.get("warmup")) == warm
        ),
        None,
    )


def us1(res: dict | None):
    one = step_at(res, 1.0)
    return one and one.get("server_us_per_update")


def cpu_table(fo: dict) -> list[str]:
    """Server CPU per delivered update at 1 Hz, N = 1,000, every scenario of the run."""
    ws, fl = fo.get(("ws", 1000)), fo.get(("floor", 1000))
    rows = [k for k in ORDER if (k, 1000) in fo]
    if not rows:
        return []
    out = [
        "Server CPU µs per delivered price update, N = 1,000, 20 symbols at 1 Hz "
        "(measured step after a warm-up step at the same rate; lower is better; "
        "×raw / ×floor = their µs ÷ this one's, higher is better):",
        "",
        "| scenario | server µs/update (warm-up step) | ×raw | ×floor | p50 / p99 ms "
        "| lost | load-gen CPU | load |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for key in rows:
        r = fo[(key, 1000)]
        s, w = step_at(r, 1.0) or {}, step_at(r, 1.0, warm=True) or {}
        out.append(
            f"| {NAMES[key]} | {fmt(s.get('server_us_per_update'))} "
            f"({fmt(w.get('server_us_per_update'))}) | {ratio(us1(ws), us1(r))} | "
            f"{ratio(us1(fl), us1(r))} | {fmt(s.get('p50_ms'))} / "
            f"{fmt(s.get('p99_ms'))} | {fmt(s.get('lost'))} | "
            f"{fmt(s.get('loadgen_cpu'))} | {fmt(s.get('load1'))} |"
            + (f" error: {r['error']}" if r.get("error") else "")
        )
    return out + [""]


def targets(res: dict) -> list[str]:
    fo = {(r["scenario"], r["clients"]): r for r in res.get("fanout", [])}
    out = ["## Targets", ""] + cpu_table(fo)
    out += ["| target | result | met? |", "|---|---|---|"]
    ws, fl, ch = (fo.get((k, 1000)) for k in ("ws", "floor", "channels"))
    wu, flu = us1(ws), us1(fl)
    for key, need in TARGET_CPU.items():
        r = fo.get((key, 1000))
        if r is None:
            continue
        cu = us1(r)
        ok = bool(cu and wu and wu / cu >= need)
        out.append(
            f"| server CPU per delivered update at 1 Hz, N=1,000, {key} ≥ {need:.1f}× "
            f"raw websockets | {fmt(cu)} µs vs raw {fmt(wu)} µs = {ratio(wu, cu)} raw; "
            f"floor {fmt(flu)} µs = {ratio(flu, cu)} floor | "
            f"{'met' if ok else 'MISSED'} |"
        )
    raw1 = step_at(ws, 1.0) or {}
    raw_p99 = raw1.get("p99_ms")
    for key in ("embedded", "redis1", "redis2"):
        s = step_at(fo.get((key, 1000)), 1.0)
        if not s:
            continue
        p99 = s["p99_ms"]
        ok = (
            p99 is not None
            and p99 <= TARGET_P99_1HZ
            and (raw_p99 is None or p99 <= raw_p99)
        )
        out.append(
            f"| tick→client p99 ≤ 50 ms and ≤ raw's p99, N=1,000, 20 symbols at 1 Hz, "
            f"{key} | {fmt(p99)} ms (raw {fmt(raw_p99)} ms in this run) | "
            f"{'met' if ok else 'MISSED'} |"
        )
    ours = [
        (r["scenario"], r["clients"], s)
        for r in res.get("fanout", [])
        if r["scenario"] not in ("ws", "floor", "channels")
        for s in judged(r)
        if s["holds"] or s["rate_per_symbol"] == 1.0
    ]
    if ours:
        bad = [
            f"{k} N={n} {s['ticks_per_s']:g}/s: {fmt(s['lost'])}"
            for k, n, s in ours
            if s["lost"] != 0
        ]
        got = "lost in " + ", ".join(bad) if bad else f"0 in {len(ours)} steps"
        out.append(
            "| 0 updates lost (ours: N × published − received; 1 Hz and every held "
            f"step) | {got} | {'MISSED' if bad else 'met'} |"
        )
    out += throughput_rows(fo)
    ing = res.get("ingest")
    if ing:
        med = ing.get("median_frames_per_s", ing["frames_per_s"])
        runs = ing.get("runs_frames_per_s") or [ing["frames_per_s"]]
        best_run = ing.get("best_frames_per_s", max(runs))
        out.append(
            f"| ingest ≥ 100,000 frames/s on one core | median {fmt(med)} frames/s "
            f"of {len(runs)} runs (best {fmt(best_run)}; "
            f"{ing['us_per_frame']} µs/frame in the median run) | "
            f"{'met' if med >= TARGET_INGEST else 'MISSED'} |"
        )
    a = res.get("api")
    if a:
        f = a["results"][0]
        ok = f["p99_ms"] is not None and f["p99_ms"] <= TARGET_API_P99
        ok = ok and not f["errors"]
        out.append(
            f"| API p99 ≤ 50 ms at 50 req/s | p99 {fmt(f['p99_ms'])} ms | "
            f"{'met' if ok else 'MISSED'} |"
        )
    for sk in ("soak", "soak_extra"):
        s = res.get(sk)
        if s and s.get("slope_mb_per_min") is not None:
            ok = s["slope_mb_per_min"] <= TARGET_SOAK_SLOPE
            out.append(
                f"| soak: no RSS growth after warm-up ({fmt(s['minutes'])} min) | "
                f"{s['slope_mb_per_min']:+.3f} MB/min | {'met' if ok else 'MISSED'} |"
            )
    return out + [""]


def throughput_rows(fo: dict) -> list[str]:
    """The earlier targets: updates/s held vs raw websockets and textbook Channels."""
    out = []
    for n in (1000, 100):
        ours, ws, ch = (fo.get((k, n)) for k in ("embedded", "ws", "channels"))
        if not (ours and ws and ch):
            continue
        u, w, c = (best(x).get("updates_per_s", 0) for x in (ours, ws, ch))
        cu, wu, chu = us1(ours), us1(ws), us1(ch)
        # A baseline that held no step is compared on CPU per update instead.
        ok1 = u >= 0.5 * w if w else bool(cu and wu and wu / cu >= 0.5)
        ok2 = u >= 10 * c if c else bool(cu and chu and chu / cu >= 10)
        b1 = (
            f"{fmt(u)} vs {fmt(w)} = {ratio(u, w)}"
            if w
            else (
                f"raw held no step; CPU/update {fmt(cu)} vs {fmt(wu)} µs = "
                f"{ratio(wu, cu)}"
            )
        )
        b2 = (
            f"{fmt(u)} vs {fmt(c)} = {ratio(u, c)}"
            if c
            else (
                f"Channels held no step; CPU/update {fmt(cu)} vs {fmt(chu)} µs = "
                f"{ratio(chu, cu)}"
            )
        )
        out.append(
            f"| fan-out N={n:,}, updates/s held: ≥ 0.5× raw websockets | {b1} | "
            f"{'met' if ok1 else 'MISSED'} |"
        )
        out.append(
            f"| fan-out N={n:,}, updates/s held: ≥ 10× textbook Channels | {b2} | "
            f"{'met' if ok2 else 'MISSED'} |"
        )
    return out
