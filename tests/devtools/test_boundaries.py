"""devtools/ sits outside the product: the product never imports it."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def imported_modules(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    names: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.append(node.module)
    return names


@pytest.mark.parametrize("package", ["streaming", "portfolio", "portfolio_site"])
def test_product_never_imports_devtools(package):
    offenders = [
        f"{path.relative_to(ROOT)}: {name}"
        for path in (ROOT / package).rglob("*.py")
        for name in imported_modules(path)
        if name == "devtools" or name.startswith("devtools.")
    ]
    assert offenders == []


def test_devtools_needs_nothing_from_the_product():
    """The fakes stand in for the exchanges, so they share no code with the feeds."""
    offenders = [
        f"{path.relative_to(ROOT)}: {name}"
        for path in (ROOT / "devtools").rglob("*.py")
        for name in imported_modules(path)
        if name.split(".")[0] in {"streaming", "portfolio", "portfolio_site", "django"}
    ]
    assert offenders == []


def test_fake_modules_stay_small():
    sizes = {
        p.name: len(p.read_text().splitlines())
        for p in (ROOT / "devtools").glob("*.py")
    }
    assert max(sizes.values()) <= 400, sizes
