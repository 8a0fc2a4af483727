"""No private key, token or password-bearing URL is committed."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

PATTERNS = {
    "private key": re.compile(
        r"-----BEGIN (?:RSA |EC |DSA |OPENSSH |PGP )?PRIVATE KEY"
    ),
    "AWS access key": re.compile(r"\bAKIA[0-9A-Z]{16}\b"),
    "GitHub token": re.compile(r"\bgh[pousr]_[A-Za-z0-9]{36,}\b"),
    "Slack token": re.compile(r"\bxox[abpr]-[A-Za-z0-9-]{10,}"),
    "Google API key": re.compile(r"\bAIza[0-9A-Za-z_-]{35}\b"),
    "Stripe live key": re.compile(r"\b[sr]k_live_[0-9a-zA-Z]{20,}"),
    "password in a URL": re.compile(
        r"\b(?:postgres|postgresql|redis|mysql)://[^\s:/@]+:[^\s@/]+@"
    ),
    "hard-coded Django secret": re.compile(
        r"SECRET_KEY\s*=\s*['\"](?!dev-insecure-key)[^'\"]{20,}['\"]"
    ),
}


def tracked_files() -> list[Path]:
    try:
        out = subprocess.run(
            ["git", "ls-files", "-z"],
            cwd=ROOT,
            capture_output=True,
            check=True,
            timeout=30,
        ).stdout
    except (OSError, subprocess.CalledProcessError):
        pytest.skip("not a git checkout")
    return [ROOT / name for name in out.decode().split("\0") if name]


def test_no_secret_in_tracked_files():
    hits = []
    for path in tracked_files():
        if not path.is_file() or path.stat().st_size > 2_000_000:
            continue
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            continue
        for name, pattern in PATTERNS.items():
            for match in pattern.finditer(text):
                hits.append(f"{path.relative_to(ROOT)}: {name}: {match.group(0)[:40]}")
    assert not hits, "\n".join(hits)


def test_patterns_catch_what_they_should():
    fake = "-----BEGIN RSA " + "PRIVATE KEY-----"  # assembled: this file stays clean
    assert PATTERNS["private key"].search(fake)
    assert PATTERNS["password in a URL"].search("postgres://app:" + "hunter2@db/x")
    assert not PATTERNS["password in a URL"].search(
        "postgres://postgres@127.0.0.1:5432/x"
    )
