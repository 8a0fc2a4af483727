"""The house rules of the code base, each one a test that fails when broken.

* no Python module of the product (or devtools) and no JavaScript file over
  400 lines;
* no import cycle between modules of the product, counting every import
  (module level, inside functions and under ``TYPE_CHECKING``);
* ``streaming/`` never imports ``portfolio``, ``portfolio_site`` or ``devtools``;
  ``portfolio/`` never imports ``devtools``; ``portfolio_site`` holds only
  settings, ``asgi.py``, ``urls.py`` (and routing);
* daphne/Twisted/Channels internals are named in one module only.
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("streaming", "portfolio", "portfolio_site", "devtools")
MAX_LINES = 400
INTERNALS_MODULE = ROOT / "streaming" / "delivery" / "asgi_transport.py"
INTERNALS = (
    "_tempDataLen",
    "dataBuffer",
    "real_send",
    "sendCloseFrame",
    "InstanceSessionWrapper",
    "_asyncioEventloop",
    "_perMessageCompress",
    "TIOCOUTQ",
    "twisted.internet.tcp",
)


def python_files(package: str) -> list[Path]:
    return [p for p in (ROOT / package).rglob("*.py") if "migrations" not in p.parts]


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


MODULES = {module_name(p): p for pkg in PACKAGES for p in python_files(pkg)}


def imports_of(path: Path) -> set[str]:
    """Every product module ``path`` imports, resolved to the deepest module."""
    name = module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")
                anchor = anchor[: len(anchor) - (node.level - 1)]
                base = ".".join([*anchor, base] if base else anchor)
            targets = [f"{base}.{alias.name}" for alias in node.names] + [base]
        else:
            continue
        for target in targets:
            while target and target not in MODULES:
                target = target.rpartition(".")[0]
            if target and target != name:
                found.add(target)
    return found


def test_python_modules_are_small():
    sizes = {
        str(p.relative_to(ROOT)): len(p.read_text().splitlines())
        for p in MODULES.values()
    }
    assert {n: s for n, s in sizes.items() if s > MAX_LINES} == {}


def test_javascript_files_are_small():
    js = [p for p in (ROOT / "static").rglob("*.js") if "vendor" not in p.parts]
    assert js, "no JavaScript found: the test looks in the wrong place"
    sizes = {str(p.relative_to(ROOT)): len(p.read_text().splitlines()) for p in js}
    assert {n: s for n, s in sizes.items() if s > MAX_LINES} == {}


def test_no_import_cycles():
    graph = {name: imports_of(path) for name, path in MODULES.items()}
    # A package's __init__ importing its own submodules is how packages work;
    # only cycles through real modules are counted.
    done: set[str] = set()
    cycles: list[str] = []

    def visit(node: str, path: tuple[str, ...]) -> None:
        if node in path:
            cycles.append(" -> ".join((*path[path.index(node) :], node)))
            return
        if node in done:
            return
        for target in sorted(graph.get(node, ())):
            if not target.startswith(node + "."):
                visit(target, (*path, node))
        done.add(node)

    for module in sorted(graph):
        visit(module, ())
    assert cycles == []


@pytest.mark.parametrize(
    ("package", "forbidden"),
    [
        ("streaming", {"portfolio", "portfolio_site", "devtools"}),
        ("portfolio", {"devtools"}),
        ("portfolio_site", {"devtools"}),
    ],
)
def test_layers_point_one_way(package, forbidden):
    offenders = [
        f"{module} imports {target}"
        for module, path in MODULES.items()
        if module.split(".")[0] == package
        for target in imports_of(path)
        if target.split(".")[0] in forbidden
    ]
    assert offenders == []


def test_portfolio_site_holds_only_settings_asgi_urls():
    names = {p.name for p in (ROOT / "portfolio_site").glob("*.py")}
    assert names <= {"__init__.py", "settings.py", "asgi.py", "urls.py", "routing.py"}
    packages = {p.name for p in (ROOT / "portfolio_site").iterdir() if p.is_dir()}
    assert packages - {"__pycache__"} <= {"settings"}


def test_third_party_internals_in_one_module():
    offenders = [
        f"{path.relative_to(ROOT)}: {name}"
        for path in MODULES.values()
        if path != INTERNALS_MODULE
        for name in INTERNALS
        if name in path.read_text()
    ]
    assert offenders == []
    assert all(name in INTERNALS_MODULE.read_text() for name in INTERNALS[:4])


def test_the_cycle_finder_finds_a_cycle(tmp_path, monkeypatch):
    """The checker itself works: a real cycle is reported."""
    (tmp_path / "a.py").write_text("import b\n")
    (tmp_path / "b.py").write_text("from a import x\n")
    module = sys.modules[__name__]
    monkeypatch.setattr(module, "ROOT", tmp_path)
    fake = {"a": tmp_path / "a.py", "b": tmp_path / "b.py"}
    monkeypatch.setattr(module, "MODULES", fake)
    assert imports_of(fake["a"]) == {"b"} and imports_of(fake["b"]) == {"a"}
