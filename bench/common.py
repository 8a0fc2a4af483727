"""Shared helpers: ports, subprocesses (127.0.0.1 only), RSS, machine, versions."""

from __future__ import annotations

import json
import os
import platform
import resource
import socket
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PY = sys.executable
HOST = "127.0.0.1"
SYMBOLS = [
    "BTC",
    "ETH",
    "BNB",
    "SOL",
    "XRP",
    "ADA",
    "DOGE",
    "AVAX",
    "DOT",
    "LINK",
    "LTC",
    "TRX",
    "ATOM",
    "UNI",
    "ETC",
    "XLM",
    "NEAR",
    "APT",
    "FIL",
    "ARB",
]


def fake_exchange_cmd(port: int) -> list[str]:
    """The devtools fake Binance, silent until ticked on ``/control``.

    It lists and answers for every bench symbol (SUBSCRIBE, LIST_SUBSCRIPTIONS),
    and each tick carries ``E`` = send time and ``v`` = per-symbol sequence.
    """
    return [
        PY,
        "-m",
        "devtools.fake_exchange",
        "--exchange",
        "binance",
        "--port",
        str(port),
        "--symbols",
        ",".join(SYMBOLS),
        "--rate",
        "0",
        "--control",
    ]


def raise_nofile() -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = hard if hard != resource.RLIM_INFINITY else 65536
    if soft < want:
        resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def wait_port(
    port: int, timeout: float = 30.0, proc: subprocess.Popen | None = None
) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"process {proc.args} exited with {proc.returncode}")
        try:
            with socket.create_connection((HOST, port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.1)
    raise TimeoutError(f"nothing listening on {HOST}:{port} after {timeout}s")


def base_env(**extra: str) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("REDIS_URL", "DATABASE_URL", "CHANNEL_LAYER_PREFIX")
    }
    env["PYTHONPATH"] = str(ROOT)
    env["DJANGO_SETTINGS_MODULE"] = "portfolio_site.settings"
    env.setdefault("DJANGO_LOG_LEVEL", "WARNING")
    env.update(extra)
    return env


class Procs:
    """Start subprocesses and stop every one of them (by pid) at the end."""

    def __init__(self, logdir: Path) -> None:
        self.procs: list[subprocess.Popen] = []
        self.logdir = logdir
        logdir.mkdir(parents=True, exist_ok=True)

    def start(
        self, name: str, args: list[str], env: dict[str, str], **kw
    ) -> subprocess.Popen:
        log = open(self.logdir / f"{name}.log", "wb")
        proc = subprocess.Popen(
            args,
            env=env,
            cwd=ROOT,
            stdout=kw.pop("stdout", log),
            stderr=log,
            preexec_fn=raise_nofile,
            **kw,
        )
        self.procs.append(proc)
        return proc

    def stop_all(self) -> None:
        for proc in reversed(self.procs):
            if proc.poll() is None:
                proc.terminate()
        for proc in reversed(self.procs):
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(5)
        self.procs.clear()

    def __enter__(self) -> Procs:
        return self

    def __exit__(self, *exc) -> None:
        self.stop_all()


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def migrate(env: dict[str, str]) -> None:
    subprocess.run(
        [PY, "manage.py", "migrate", "--noinput", "-v", "0"],
        env=env,
        cwd=ROOT,
        check=True,
    )


def percentile(values: list[float], q: float) -> float | None:
    if not values:
        return None
    values = sorted(values)
    k = min(len(values) - 1, max(0, round(q / 100 * (len(values) - 1))))
    return values[k]


def machine_info() -> dict[str, str]:
    cpu = "?"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    mem = "?"
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemTotal"):
            mem = f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
    return {
        "cpu": cpu,
        "cores": str(os.cpu_count()),
        "ram": mem,
        "os": platform.platform(),
        "load": " ".join(f"{x:.2f}" for x in os.getloadavg()),
    }


def versions() -> dict[str, str]:
    from importlib.metadata import version

    out = {"python": platform.python_version()}
    for pkg in (
        "django",
        "channels",
        "channels-redis",
        "daphne",
        "websockets",
        "twisted",
    ):
        try:
            out[pkg] = version(pkg)
        except Exception:  # noqa: BLE001
            out[pkg] = "?"
    try:
        info = subprocess.run(
            ["redis-cli", "-h", HOST, "INFO", "server"],
            capture_output=True,
            text=True,
            timeout=5,
        ).stdout
        out["redis server"] = next(
            (
                ln.split(":", 1)[1].strip()
                for ln in info.splitlines()
                if ln.startswith("redis_version")
            ),
            "?",
        )
    except Exception:  # noqa: BLE001
        out["redis server"] = "unavailable"
    return out


def redis_available() -> bool:
    try:
        with socket.create_connection((HOST, 6379), timeout=0.5):
            return True
    except OSError:
        return False


def redis_cleanup(db: int, prefix: str) -> None:
    """Delete only this run's keys (our unique prefix) from the spare db."""
    import redis

    r = redis.Redis(host=HOST, port=6379, db=db)
    for pattern in (f"{prefix}*", f":1:{prefix}*", f"*{prefix}*"):
        keys = list(r.scan_iter(pattern, count=1000))
        if keys:
            r.delete(*keys)
    r.close()


def dump(obj) -> str:
    return json.dumps(obj, indent=1, default=str)


def pyspy_start(pid: int, seconds: float, out: Path) -> subprocess.Popen | None:
    """Sample ``pid`` with py-spy (a bench-only dependency) for ``seconds``.

    None when py-spy is not installed.
    """
    exe = Path(PY).parent / "py-spy"
    if not exe.exists():
        return None
    return subprocess.Popen(
        [
            str(exe),
            "record",
            "-p",
            str(pid),
            "-d",
            str(int(max(1, seconds))),
            "-r",
            "200",
            "-f",
            "raw",
            "-o",
            str(out),
            "--nonblocking",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def summarise_collapsed(path: Path, top: int = 14) -> str:
    """Self and inclusive shares of the busiest functions (py-spy collapsed stacks)."""
    if not path.exists():
        return "(no profile)"
    self_c: dict[str, int] = {}
    incl: dict[str, int] = {}
    total = 0
    for line in path.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if not count.isdigit():
            continue
        n = int(count)
        total += n
        frames = [
            f.split(" (")[0]
            + " ("
            + f.split(" (")[1]
            .split(":")[0]
            .split("site-packages/")[-1]
            .replace(str(ROOT) + "/", "")
            + ")"
            if " (" in f
            else f
            for f in stack.split(";")
        ]
        self_c[frames[-1]] = self_c.get(frames[-1], 0) + n
        for f in set(frames):
            incl[f] = incl.get(f, 0) + n
    if not total:
        return "(empty profile)"
    lines = [f"{total} samples (active threads only)", "self%  function"]
    for f, n in sorted(self_c.items(), key=lambda x: -x[1])[:top]:
        lines.append(f"{100 * n / total:5.1f}  {f}")
    lines.append("incl%  function (ours, channels, daphne, twisted, autobahn)")
    keys = (
        "streaming/",
        "portfolio/",
        "channels/",
        "daphne/",
        "twisted/",
        "autobahn/",
        "asgiref/",
        "channels_redis/",
    )
    ranked = [(f, n) for f, n in incl.items() if any(k in f for k in keys)]
    for f, n in sorted(ranked, key=lambda x: -x[1])[:top]:
        lines.append(f"{100 * n / total:5.1f}  {f}")
    return "\n".join(lines)
