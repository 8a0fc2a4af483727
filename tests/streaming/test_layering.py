"""streaming/ is the generic layer: it never imports the domain or the site."""

from __future__ import annotations

import ast
from pathlib import Path

STREAMING = Path(__file__).resolve().parents[2] / "streaming"


def test_streaming_never_imports_portfolio():
    offenders = []
    for path in STREAMING.rglob("*.py"):
        tree = ast.parse(path.read_text(), filename=str(path))
        for node in ast.walk(tree):
            names = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            offenders += [
                f"{path.relative_to(STREAMING)}: {n}"
                for n in names
                if n.split(".")[0] in ("portfolio", "portfolio_site")
            ]
    assert offenders == []


def test_spec_names_importable_from_streaming():
    import streaming

    for name in streaming.__all__:
        assert getattr(streaming, name) is not None, name
