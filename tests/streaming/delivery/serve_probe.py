"""A real WebSocketServer (daphne) in its own process, driven over stdin/stdout.

Twisted's reactor starts once per process, so tests that need a real daphne
run it here: ``python -m tests.streaming.delivery.serve_probe``. It prints
``PORT <n>`` once listening on 127.0.0.1, then answers one command per line:
``probe`` -> ``PROBE <json>`` (what the hub sees of each local client, and
when daphne will next ping it) and
``broadcast <count> <size> <gap_ms>`` -> ``BROADCAST <json>`` after writing
``count`` frames of ``size`` padding bytes to every client through the hub's
broadcast writer (``gap_ms`` apart), with the write-path counters and how many
slow clients were cut; ``stop`` -> ``STOPPED`` after ``WebSocketServer.stop()``.
Every wait is bounded.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
import time
from typing import Any

COMMAND_TIMEOUT = 60.0  # seconds without a command before the probe gives up


async def _probe() -> list[dict[str, Any]]:
    from streaming.delivery import asgi_transport
    from streaming.delivery.hub import get_connection_manager

    out = []
    for client_id, client in get_connection_manager()._clients.items():
        transport = client.transport
        out.append(
            {
                "client_id": client_id,
                "transport": None if transport is None else type(transport).__name__,
                "unsent_bytes": asgi_transport.unsent_bytes(transport),
                "past_session_wrapper": client.send != client.socket.base_send,
                "keepalive_due_in": _keepalive_due_in(client.direct),
            }
        )
    return out


def _keepalive_due_in(direct: Any) -> float | None:
    """Seconds until daphne's next keepalive ping to this socket."""
    if direct is None:
        return None
    protocol = direct.protocol
    return protocol.last_ping + protocol.server.ping_interval - time.time()


async def _broadcast(count: int, size: int, gap_ms: float) -> dict[str, Any]:
    from streaming.delivery import asgi_transport
    from streaming.delivery.hub import get_connection_manager

    hub = get_connection_manager()
    stats = asgi_transport.write_stats
    before = {"direct": stats.direct, "queued": stats.queued, "refused": stats.refused}
    started, dropped_after = time.monotonic(), None
    for seq in range(count):
        frame = {"type": "padding", "seq": seq, "at": time.time(), "data": "x" * size}
        await hub.deliver_local(None, json.dumps(frame))
        if dropped_after is None and hub.slow_clients_dropped:
            dropped_after = round(time.monotonic() - started, 3)
        await asyncio.sleep(gap_ms / 1000)
    return {
        "dropped_after_s": dropped_after,
        "direct": stats.direct - before["direct"],
        "queued": stats.queued - before["queued"],
        "refused": stats.refused - before["refused"],
        "dropped": hub.slow_clients_dropped,
        "clients": len(hub._clients),
        "direct_clients": sum(1 for c in hub._clients.values() if c.direct),
    }


async def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portfolio_site.settings")
    from portfolio_site.asgi import application
    from streaming.delivery.server import WebSocketServer

    server = WebSocketServer("127.0.0.1", 0, application=application)
    await server.start()
    print(f"PORT {server.port}", flush=True)
    while True:
        line = await asyncio.wait_for(
            asyncio.to_thread(sys.stdin.readline), COMMAND_TIMEOUT
        )
        command = line.strip()
        if command == "probe":
            report = await server._on_server_loop(_probe())
            print(f"PROBE {json.dumps(report)}", flush=True)
        elif command.startswith("broadcast "):
            count, size, gap = command.split()[1:]
            report = await server._on_server_loop(
                _broadcast(int(count), int(size), float(gap))
            )
            print(f"BROADCAST {json.dumps(report)}", flush=True)
        elif command in ("stop", ""):  # "" is EOF: the test went away
            await server.stop()
            print("STOPPED", flush=True)
            return


if __name__ == "__main__":
    asyncio.run(main())
