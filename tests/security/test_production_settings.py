"""Production settings: check --deploy clean, no default secret, DEBUG off if secure."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DEV_KEY = "dev-insecure-key-do-not-use-in-production-0123456789abcdef"


def run(code_or_args: list[str], **env: str) -> subprocess.CompletedProcess:
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("DJANGO_")}
    full_env.update(env)
    return subprocess.run(
        [sys.executable, *code_or_args],
        cwd=ROOT,
        env=full_env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def settings_value(name: str, **env: str) -> str:
    proc = run(
        [
            "-c",
            "import django, os; os.environ.setdefault('DJANGO_SETTINGS_MODULE',"
            " 'portfolio_site.settings'); django.setup(); from django.conf import "
            f"settings; print(settings.{name})",
        ],
        **env,
    )
    assert proc.returncode == 0, proc.stderr
    return proc.stdout.strip()


def production(**extra: str) -> dict[str, str]:
    return {
        "DJANGO_DEBUG": "0",
        "DJANGO_SECURE": "1",
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
        "DJANGO_ALLOWED_HOSTS": "example.com",
        **extra,
    }


def test_check_deploy_is_clean_with_production_settings():
    proc = run(
        ["manage.py", "check", "--deploy", "--fail-level", "WARNING"], **production()
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "System check identified no issues" in proc.stdout, proc.stdout + proc.stderr


@pytest.mark.parametrize("key", [None, DEV_KEY])
def test_debug_off_refuses_missing_or_dev_secret(key):
    env = production()
    if key is None:
        del env["DJANGO_SECRET_KEY"]
    else:
        env["DJANGO_SECRET_KEY"] = key
    proc = run(["manage.py", "check"], **env)
    assert proc.returncode != 0
    assert "ImproperlyConfigured" in proc.stderr and "DJANGO_SECRET_KEY" in proc.stderr


def test_debug_defaults_off_when_secure():
    env = production()
    del env["DJANGO_DEBUG"]
    assert settings_value("DEBUG", **env) == "False"
    assert settings_value("DEBUG") == "True"  # the dev default, nothing set


def test_secure_flag_sets_cookie_and_hsts_settings():
    env = production()
    assert settings_value("SESSION_COOKIE_SECURE", **env) == "True"
    assert settings_value("CSRF_COOKIE_SECURE", **env) == "True"
    assert int(settings_value("SECURE_HSTS_SECONDS", **env)) >= 31536000


@pytest.mark.parametrize("key", ["secret", "changeme" * 7, "a" * 60, "x1" * 30])
def test_debug_off_refuses_a_weak_secret(key):
    """Issue 19, item 11: a short or repetitive secret key was accepted."""
    env = production()
    env["DJANGO_SECRET_KEY"] = key
    proc = run(["manage.py", "check"], **env)
    assert proc.returncode != 0
    assert "ImproperlyConfigured" in proc.stderr and "weak" in proc.stderr
