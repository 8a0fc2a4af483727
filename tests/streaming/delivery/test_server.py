"""WebSocketServer: it serves the application it is given, and stops politely."""

from __future__ import annotations

import asyncio

import pytest
from websockets.exceptions import ConnectionClosed

from streaming.delivery.server import WebSocketServer
from streaming.exceptions import ConfigurationError

from .realserver import ProbeServer


async def test_start_without_an_application_is_a_configuration_error():
    server = WebSocketServer("127.0.0.1", 0)
    with pytest.raises(ConfigurationError, match="application"):
        await server.start()
    assert not server.running


def test_application_is_keyword_only():
    with pytest.raises(TypeError):
        WebSocketServer("127.0.0.1", 0, object())  # type: ignore[misc]


@pytest.mark.timeout(60)
async def test_stop_closes_every_client_with_1001(tmp_path):
    server = ProbeServer(tmp_path)
    try:
        await server.start()
        clients = [await server.client() for _ in range(3)]
        assert len(await server.probe()) == 3
        await server.stop()
        for ws in clients:
            with pytest.raises(ConnectionClosed):
                async with asyncio.timeout(10):
                    while True:  # bounded: the close must come within 10 s
                        await ws.recv()
            assert ws.close_code == 1001, (ws.close_code, ws.close_reason)
    finally:
        out = server.finish()
    assert "Traceback" not in out, out
