"""A real server for the browser tests, started as a subprocess, and a Chromium.

``manage.py serve`` (daphne + the feed worker, mock feed) on a free port with
its own database: a fresh PostgreSQL database when ``DATABASE_URL`` points to
PostgreSQL (the real run; ``REDIS_URL`` is passed through with a private
prefix), else a temporary SQLite file. Its output goes to
``test-artifacts/browser-server.log``.
Chromium is Debian's (``/usr/bin/chromium``); Playwright never downloads one.
"""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
import time
import urllib.request
import uuid
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
]
START_TIMEOUT = 40.0


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _postgres_database(url: str) -> tuple[str, str]:
    """Create a fresh database next to ``url``'s; returns (its URL, its name)."""
    import psycopg

    parts = urlsplit(url)
    name = f"browser_{uuid.uuid4().hex[:12]}"
    admin = urlunsplit(parts._replace(path="/postgres"))
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return urlunsplit(parts._replace(path=f"/{name}")), name


def _drop_postgres_database(url: str, name: str) -> None:
    import psycopg

    admin = urlunsplit(urlsplit(url)._replace(path="/postgres"))
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _wait_until_up(base_url: str, proc: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited ({proc.returncode}):\n{log.read_text()}")
        try:
            with urllib.request.urlopen(base_url + "/login/", timeout=2) as resp:
                if resp.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.2)
    raise RuntimeError(
        f"server did not answer within {START_TIMEOUT}s:\n{log.read_text()}"
    )


@contextmanager
def running_server(tmp: Path, extra_env: dict[str, str] | None = None) -> Iterator[str]:
    """Base URL of a ``manage.py serve`` with the mock feed, stopped on exit;
    ``extra_env`` adds or overrides settings (e.g. candle REST URLs)."""
    if not Path(CHROMIUM).exists():
        pytest.skip(f"no Chromium at {CHROMIUM} (make browser installs it)")
    ARTIFACTS.mkdir(exist_ok=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")}
    env.pop("DJANGO_SETTINGS_MODULE", None)
    database_url = os.environ.get("DATABASE_URL", "")
    pg_name = None
    if database_url.startswith(("postgres://", "postgresql://")):
        env["DATABASE_URL"], pg_name = _postgres_database(database_url)
    else:
        env["DATABASE_URL"] = f"sqlite:///{tmp / 'browser.sqlite3'}"
    env.update(
        PRICE_FEEDS="mock",
        ASSET_LISTINGS_FETCH="0",  # the shipped listing snapshot: no internet
        CANDLES_FETCH="0",  # stored candles only, unless a test serves some
        FEED_STARTUP_WINDOW="0",
        PRICE_PUBLISH_INTERVAL="0.25",
        PORTFOLIO_SNAPSHOT_INTERVAL="2",
        # Own keys in a shared Redis: the suite's tests clear theirs.
        CHANNEL_LAYER_PREFIX=f"browser{uuid.uuid4().hex[:8]}",
        DJANGO_DEBUG="1",
        PYTHONUNBUFFERED="1",
    )
    env.update(extra_env or {})
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--noinput", "-v0"],
        cwd=ROOT,
        env=env,
        check=True,
        timeout=120,
    )
    port = _free_port()
    cmd = [sys.executable, "manage.py", "serve", "--host", "127.0.0.1"]
    cmd += ["--port", str(port)]
    log = ARTIFACTS / "browser-server.log"
    with log.open("w") as out:
        proc = subprocess.Popen(
            cmd, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT
        )
    base_url = f"http://127.0.0.1:{port}"
    try:
        _wait_until_up(base_url, proc, log)
        yield base_url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)
        if pg_name:
            _drop_postgres_database(database_url, pg_name)


@pytest.fixture(scope="module")
def live_server_url(tmp_path_factory) -> Iterator[str]:
    """Base URL of a running ``manage.py serve`` with the mock feed (stopped
    after the module, so it never runs alongside the rest of the suite)."""
    with running_server(tmp_path_factory.mktemp("browser-server")) as url:
        yield url


@pytest.fixture(scope="module")
def browser():
    """Chromium for one module: sync Playwright keeps an event loop running in
    this thread while open, which would break the async tests that follow."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page_errors():
    """Console errors and uncaught exceptions seen by pages given to ``watch``."""
    errors: list[str] = []

    def watch(page):
        page.on("console", lambda m: m.type == "error" and errors.append(m.text))
        page.on("pageerror", lambda exc: errors.append(f"pageerror: {exc}"))
        return page

    watch.errors = errors
    return watch


@pytest.fixture
def context(browser):
    ctx = browser.new_context(viewport={"width": 1366, "height": 900})
    yield ctx
    ctx.close()


class SocketTap:
    """The page's ``/ws/stream/`` sockets, routed through Playwright.

    Server frames are forwarded to the page except the types in ``hold``
    (dropped, so a test decides what the page sees); ``inject`` sends a frame
    as if the server had, ``drop`` closes the page's socket like a network
    failure. Every server frame is kept (parsed) in ``frames``.
    """

    def __init__(self, page, hold: frozenset[str] = frozenset()) -> None:
        self.hold = set(hold)
        self.frames: deque[dict] = deque(maxlen=5000)
        self.routes: list = []
        page.route_web_socket(re.compile(r"/ws/stream/"), self._route)

    def _route(self, ws) -> None:
        server = ws.connect_to_server()
        self.routes.append((ws, server))

        def from_server(message: str | bytes) -> None:
            try:
                frame = json.loads(message)
            except ValueError:
                frame = {}
            self.frames.append(frame)
            if frame.get("type") not in self.hold:
                ws.send(message)

        server.on_message(from_server)

    def inject(self, frame: dict) -> None:
        self.routes[-1][0].send(json.dumps(frame))

    def drop(self) -> None:
        page_side, server_side = self.routes[-1]
        page_side.close()
        server_side.close()


@pytest.fixture
def socket_tap():
    """``socket_tap(page, hold=...)``: a :class:`SocketTap` on ``page``."""
    return SocketTap
