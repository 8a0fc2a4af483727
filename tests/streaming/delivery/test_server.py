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


async def test_price_batches_are_handed_off_in_order_one_at_a_time(caplog):
    """Embedded: batches go to the server's loop (another thread) without waiting
    for each result, but never two at once, in order; a failure is logged."""
    import threading

    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    server = WebSocketServer(application=object())
    server._loop = loop  # what start() records once daphne listens
    seen, running = [], []

    async def batch(n: int) -> None:
        running.append(n)
        assert len(running) == 1  # the one before has finished
        await asyncio.sleep(0.01)
        seen.append(n)
        running.remove(n)
        if n == 3:
            raise RuntimeError("layer down")

    try:
        for n in range(6):
            await server._hand_off(batch(n))
        await asyncio.wrap_future(server._in_flight)
        assert seen == [0, 1, 2, 3, 4, 5]
        assert "a price batch failed" in caplog.text
    finally:
        loop.call_soon_threadsafe(loop.stop)
        thread.join(5)
        loop.close()
