"""The dashboard's scripts: small ES modules, loaded as modules, no globals.

Source checks, no browser: the browser tests prove the modules run.
"""

from __future__ import annotations

import re
from pathlib import Path

from .conftest import ROOT

JS = ROOT / "static" / "js"
TEMPLATES = ROOT / "templates"
MAX_LINES = 400
SCRIPT_TAG = re.compile(r"<script\b[^>]*>", re.IGNORECASE)
# Assigning to a global object: window.x = ..., globalThis["x"] = ...
GLOBAL_WRITE = re.compile(
    r"\b(?:window|globalThis|self)\s*(?:\.\s*\w+|\[[^\]]+\])\s*=[^=]"
)


def _modules() -> list[Path]:
    return sorted(p for p in JS.rglob("*.js") if "vendor" not in p.parts)


def test_every_module_is_under_the_line_limit():
    assert _modules(), f"no JavaScript under {JS}"
    too_long = {
        str(p.relative_to(ROOT)): n
        for p in _modules()
        if (n := len(p.read_text().splitlines())) > MAX_LINES
    }
    assert too_long == {}


def test_templates_load_the_scripts_as_modules():
    tags = [
        t for p in TEMPLATES.rglob("*.html") for t in SCRIPT_TAG.findall(p.read_text())
    ]
    ours = [t for t in tags if "js/" in t and "vendor/" not in t]
    assert ours, "no template loads static/js"
    # One exception: theme.js must run before the first paint (a deferred
    # module would flash the other theme), so it is a classic script.
    modules = [t for t in ours if "js/theme.js" not in t]
    assert all('type="module"' in t for t in modules), modules
    assert len(ours) - len(modules) == 1, "theme.js is loaded once, in base.html"


def _entry_points() -> set[str]:
    """The modules the pages load (dashboard.js, transactions.js)."""
    found = set()
    for page in TEMPLATES.rglob("*.html"):
        found |= set(re.findall(r"static 'js/([\w-]+\.js)'", page.read_text()))
    return found


def test_every_module_is_reached_from_the_entry_point():
    assert {"dashboard.js", "transactions.js"} <= _entry_points()
    imported = _entry_points()
    pending = sorted(imported)
    while pending:
        text = (JS / pending.pop()).read_text()
        for name in re.findall(r'from\s+"\./([\w-]+\.js)"', text):
            if name not in imported:
                imported.add(name)
                pending.append(name)
    assert imported | {"theme.js"} == {p.name for p in _modules()}


def test_no_module_writes_a_global():
    writes = {
        f"{p.name}:{i}": line.strip()
        for p in _modules()
        for i, line in enumerate(p.read_text().splitlines(), 1)
        if GLOBAL_WRITE.search(line)
    }
    assert writes == {}
