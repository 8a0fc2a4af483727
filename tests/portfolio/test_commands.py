"""The run_feeds and serve commands as an operator runs them (subprocesses)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.conf import settings

ROOT = Path(__file__).resolve().parents[2]


def subprocess_database_url() -> str:
    """DATABASE_URL of the test database (the subprocess must see the test data)."""
    from django.db import connection

    db = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{db['NAME']}"
    return f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}"


def manage(*args: str, env: dict | None = None, **kwargs) -> subprocess.Popen:
    full_env = {
        **os.environ,
        "PYTHONUNBUFFERED": "1",
        "DATABASE_URL": subprocess_database_url(),
        **(env or {}),
    }
    return subprocess.Popen(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=full_env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        **kwargs,
    )


def wait_for_line(proc: subprocess.Popen, text: str, timeout: float = 20) -> str:
    """Read output lines until one contains ``text`` (bounded in time)."""
    seen = []
    deadline = time.monotonic() + timeout
    os.set_blocking(proc.stdout.fileno(), False)
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if line:
            seen.append(line)
            if text in line:
                return "".join(seen)
        elif proc.poll() is not None:
            break
        else:
            time.sleep(0.05)
    raise AssertionError(f"{text!r} not seen; output:\n{''.join(seen)}")


def finish(proc: subprocess.Popen, sig=signal.SIGTERM, timeout: float = 15) -> str:
    if proc.poll() is None:
        proc.send_signal(sig)
    try:
        out, _ = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, _ = proc.communicate()
        raise AssertionError(f"did not stop within {timeout}s:\n{out}") from None
    return out or ""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.parametrize(
    "args, message",
    [
        (["--providers", "bitstamp"], "Unknown price feed 'bitstamp'"),
        (["--symbols", "btc-usd"], "Invalid symbols"),
        (["--publish-interval", "-1"], "must not be negative"),
    ],
)
def test_run_feeds_bad_options(args, message):
    proc = manage("run_feeds", *args)
    out, _ = proc.communicate(timeout=60)
    assert proc.returncode == 1
    assert message in out
    assert "Traceback" not in out


def test_run_feeds_help():
    out = subprocess.run(
        [sys.executable, "manage.py", "run_feeds", "--help"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=30,
    ).stdout
    for option in (
        "--providers",
        "--symbols",
        "--publish-interval",
        "--startup-window",
    ):
        assert option in out


@pytest.mark.django_db(transaction=True)
def test_run_feeds_stops_cleanly_on_sigterm():
    proc = manage("run_feeds", "--providers", "mock", "--symbols", "BTC")
    wait_for_line(proc, "Feed worker started")
    out = finish(proc, signal.SIGTERM)
    assert proc.returncode == 0, out
    assert "Feed worker stopped" in out
    assert "Traceback" not in out


@pytest.mark.django_db(transaction=True)
def test_serve_stops_cleanly_on_sigint():
    port = free_port()
    proc = manage("serve", "--port", str(port), "--providers", "mock")
    wait_for_line(proc, "Feed worker started")
    out = finish(proc, signal.SIGINT)
    assert proc.returncode == 0, out
    assert "Traceback" not in out


@pytest.mark.real_only
@pytest.mark.django_db(transaction=True)
def test_second_worker_waits_as_standby_and_takes_over():
    env = {"CHANNEL_LAYER_PREFIX": f"locktest{os.getpid()}"}
    first = manage("run_feeds", "--providers", "mock", "--symbols", "BTC", env=env)
    second = None
    try:
        wait_for_line(first, "Holding the worker lock")
        second = manage("run_feeds", "--providers", "mock", "--symbols", "BTC", env=env)
        wait_for_line(second, "waiting as standby")
        first.kill()  # no clean release: the lock must expire
        first.wait(10)
        wait_for_line(second, "Holding the worker lock", timeout=30)
    finally:
        first.kill()
        if second is not None:
            out = finish(second)
            assert "Traceback" not in out


def test_settings_match_the_run():
    assert bool(settings.REDIS_URL) == (
        "Redis" in settings.CHANNEL_LAYERS["default"]["BACKEND"]
    )


def test_serve_on_a_port_in_use_exits_non_zero_at_once_naming_it():
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        started = time.monotonic()
        proc = manage("serve", "--port", str(port), "--no-feeds")
        try:
            out, _ = proc.communicate(timeout=30)
        finally:
            proc.kill()
    assert proc.returncode not in (0, None), out
    assert time.monotonic() - started < 20  # at once: no server left running
    assert f"Port {port} on 127.0.0.1 is not available" in out
    assert f"PORT={port + 1} make run" in out
    assert "Serving on" not in out
