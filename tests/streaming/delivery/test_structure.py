"""The delivery package keeps its shape: small modules, no cycles, internals in one."""

from __future__ import annotations

import ast
from pathlib import Path

STREAMING = Path(__file__).resolve().parents[3] / "streaming"
DELIVERY = STREAMING / "delivery"
MAX_LINES = 400
# Names that only asgi_transport.py may know (daphne/Twisted/Channels internals).
INTERNALS = ("_tempDataLen", "dataBuffer", "real_send", "sendCloseFrame")


def _delivery_imports(path: Path) -> set[str]:
    """Delivery modules ``path`` imports (relative or absolute)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom):
            module = node.module or ""
            if node.level == 1:
                targets = [module] if module else [a.name for a in node.names]
            elif module.startswith("streaming.delivery."):
                targets = [module.removeprefix("streaming.delivery.")]
            elif module == "streaming.delivery":
                targets = [a.name for a in node.names]
            else:
                targets = []
            found |= {t.split(".")[0] for t in targets}
    return found & {p.stem for p in DELIVERY.glob("*.py")}


def test_modules_are_small():
    sizes = {p.name: len(p.read_text().splitlines()) for p in DELIVERY.glob("*.py")}
    assert {n: s for n, s in sizes.items() if s > MAX_LINES} == {}


def test_no_import_cycles():
    graph = {p.stem: _delivery_imports(p) for p in DELIVERY.glob("*.py")}
    done: set[str] = set()

    def visit(node: str, path: tuple[str, ...]) -> None:
        assert node not in path, " -> ".join((*path, node))
        if node in done:
            return
        for target in graph.get(node, ()):
            visit(target, (*path, node))
        done.add(node)

    for module in graph:
        visit(module, ())


def test_third_party_internals_only_in_asgi_transport():
    offenders = [
        f"{path.relative_to(STREAMING)}: {name}"
        for path in STREAMING.rglob("*.py")
        if path.name != "asgi_transport.py"
        for name in INTERNALS
        if name in path.read_text()
    ]
    assert offenders == []


def test_old_modules_are_gone():
    old = ["presence", "server", "consumers", "messages", "rooms", "signals"]
    assert [m for m in old if (STREAMING / f"{m}.py").exists()] == []


def test_spec_names_come_from_the_delivery_package():
    import streaming
    from streaming.delivery.hub import ConnectionManager
    from streaming.delivery.messages import MessageType, WebSocketMessage
    from streaming.delivery.server import WebSocketServer

    assert streaming.ConnectionManager is ConnectionManager
    assert streaming.WebSocketServer is WebSocketServer
    assert streaming.WebSocketMessage is WebSocketMessage
    assert streaming.MessageType is MessageType
