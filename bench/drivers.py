"""What bench/fanout.py drives besides the servers: load generators, the status API.

* :class:`LoadGen` — K load-generator processes (bench/loadgen.py) holding N clients
  between them. Why several: one Python process reading 20,000+ frames/s is itself a
  bottleneck on a small machine, and what it cannot read in time shows up as server
  latency. Commands go to every process; reports are pooled with
  :func:`bench.loadgen.merge_reports` (latency histograms summed, the union merged as
  sets), and CPU is the sum over the processes.
* :class:`StatusAPI` — the worker's publisher counters (``published``, ``conflated``),
  which "lost" for our scenarios is computed from. They used to come in the ``system``
  room's ``system_status`` frames; since the public room carries only what the page
  shows (portfolio/live/status.py ``public_status``), they are read where the worker
  still stores them: the full status in the cache, served to staff by
  ``GET /api/streams/status/``. The bench creates a staff user with a token for that.
"""

from __future__ import annotations

import json
import subprocess
import time
import urllib.request
from datetime import datetime

from bench.common import HOST, PY, ROOT, Procs, base_env, cpu_seconds
from bench.loadgen import merge_reports

STAFF_SETUP = """
from django.contrib.auth import get_user_model
from rest_framework.authtoken.models import Token
u, _ = get_user_model().objects.get_or_create(
    username="bench-staff", defaults={"is_staff": True})
if not u.is_staff:
    u.is_staff = True
    u.save()
print("TOKEN", Token.objects.get_or_create(user=u)[0].key)
"""


class LoadGen:
    """N clients over ``procs`` load-generator processes, driven as one."""

    def __init__(
        self, procs: Procs, urls: list[str], n: int, rooms: str, k: int = 1
    ) -> None:
        k = max(1, min(k, n))
        self.procs = []
        first = 0
        for j in range(k):
            size = n // k + (1 if j < n % k else 0)
            args = [PY, "-m", "bench.loadgen", "-n", str(size), "--subscribe", rooms]
            args += ["--first", str(first)]
            for url in urls:
                args += ["--url", url]
            self.procs.append(
                procs.start(
                    f"loadgen-{n}-{j}",
                    args,
                    base_env(),
                    stdin=subprocess.PIPE,
                    stdout=subprocess.PIPE,
                    text=True,
                    bufsize=1,
                )
            )
            first += size
        self.proc = self.procs[0]  # back-compat (soak.py, old callers)

    @property
    def pids(self) -> list[int]:
        return [p.pid for p in self.procs]

    def cpu_seconds(self) -> float:
        return sum(cpu_seconds(pid) for pid in self.pids)

    @staticmethod
    def _expect(proc, prefix: str, timeout: float) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            line = proc.stdout.readline()
            if not line:
                raise RuntimeError("load generator exited")
            if line.startswith(prefix):
                return line[len(prefix) :].strip()
        raise TimeoutError(prefix)

    def expect(self, prefix: str, timeout: float = 180) -> str:
        """The same reply from every process; READY counts are summed."""
        replies = [self._expect(p, prefix, timeout) for p in self.procs]
        if prefix.startswith("READY"):
            return str(sum(int(r) for r in replies))
        return replies[0]

    def _send(self, command: str) -> None:
        for p in self.procs:
            p.stdin.write(command + "\n")
            p.stdin.flush()

    def cmd(self, command: str, reply: str) -> str:
        self._send(command)
        return self.expect(reply, 60)

    def report(self, keep_samples: bool = False) -> dict:
        """One pooled report (histogram and union dropped unless ``keep_samples``)."""
        self._send("REPORT")
        reps = [json.loads(self._expect(p, "REPORT ", 60)) for p in self.procs]
        rep = merge_reports(reps)
        if not keep_samples:
            rep.pop("lat_hist")
            rep.pop("union")
        return rep

    def quit(self) -> None:
        try:
            self._send("QUIT")
        except OSError:
            pass


class StatusAPI:
    """The worker's full status (publisher counters) via the staff status endpoint."""

    def __init__(self, port: int, token: str) -> None:
        self.url = f"http://{HOST}:{port}/api/streams/status/"
        self.token = token

    @staticmethod
    def create_token(env: dict[str, str]) -> str:
        """A staff user and its API token in the scenario's database."""
        out = subprocess.run(
            [PY, "manage.py", "shell", "-c", STAFF_SETUP],
            env=env,
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
        )
        return next(
            ln.split()[1] for ln in out.stdout.splitlines() if ln.startswith("TOKEN")
        )

    def get(self) -> dict | None:
        req = urllib.request.Request(
            self.url,
            headers={
                "Authorization": f"Token {self.token}",
                "Accept": "application/json",
            },
        )
        with urllib.request.urlopen(req, timeout=5) as resp:  # noqa: S310 (loopback)
            return json.loads(resp.read()).get("status")

    def wait(self, after: float, timeout: float = 8.0) -> dict | None:
        """Publisher counters from a status the worker stored after ``after`` (epoch s).

        The worker stores its status every ``status_interval`` (5 s by default), so
        this waits up to one interval; None if none came (the step then shows it).
        """
        deadline = time.monotonic() + timeout
        while True:
            try:
                status = self.get()
            except OSError:
                status = None
            if status and status.get("updated_at"):
                at = datetime.fromisoformat(status["updated_at"]).timestamp()
                if at > after:
                    return status.get("publisher")
            if time.monotonic() >= deadline:
                return None
            time.sleep(0.5)
