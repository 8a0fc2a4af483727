"""A real WebSocketServer (daphne) in its own process, driven over stdin/stdout.

Twisted's reactor starts once per process, so tests that need a real daphne
run it here: ``python -m tests.streaming.delivery.serve_probe``. It prints
``PORT <n>`` once listening on 127.0.0.1, then answers one command per line:
``probe`` -> ``PROBE <json>`` (what the hub sees of each local client) and
``stop`` -> ``STOPPED`` after ``WebSocketServer.stop()``. Every wait is bounded.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
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
            }
        )
    return out


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
        elif command in ("stop", ""):  # "" is EOF: the test went away
            await server.stop()
            print("STOPPED", flush=True)
            return


if __name__ == "__main__":
    asyncio.run(main())
