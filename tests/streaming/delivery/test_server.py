"""WebSocketServer: it serves the application it is given, and stops politely."""

from __future__ import annotations

import asyncio
import json

import pytest
from websockets.exceptions import ConnectionClosed

from streaming.delivery import server as server_module
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


def _btc(price: str) -> list[dict[str, str]]:
    return [{"symbol": "BTC", "price": price, "source": "binance"}]


@pytest.mark.django_db(transaction=True)
async def test_on_the_servers_loop_each_price_batch_is_published_inline(
    connection_manager, ws_connect, monkeypatch
):
    """Embedded (portfolio/runner.py): the worker runs on daphne's own loop, so a
    batch is published before broadcast_prices returns, in order, and a failed
    one reaches the caller (the publisher counts it)."""
    comm = await ws_connect()
    await comm.send_to(text_data='{"action": "subscribe", "rooms": ["prices"]}')
    await comm.receive_json_from(timeout=5)
    layer = {"down": False}
    published: list[str] = []
    real_publish = server_module.publish_frame

    async def publish(group: str, room: str | None, text: str, **kwargs) -> None:
        if layer["down"]:
            raise RuntimeError("layer down")
        await real_publish(group, room, text, **kwargs)
        published.append(json.loads(text)["data"]["prices"][0]["price"])

    monkeypatch.setattr(server_module, "publish_frame", publish)
    server = WebSocketServer(application=object())
    server._loop = asyncio.get_running_loop()  # what start() records
    try:
        await server.broadcast_prices(_btc("1"))
        assert published == ["1"]  # published before the call returned
        layer["down"] = True
        with pytest.raises(RuntimeError, match="layer down"):
            await server.broadcast_prices(_btc("2"))
        layer["down"] = False
        await server.broadcast_prices(_btc("3"))
        assert published == ["1", "3"]
        received: list[dict[str, str]] = []
        while len(received) < 2:  # a backlog may reach the hub merged into one frame
            received += (await comm.receive_json_from(timeout=5))["data"]["prices"]
        assert received == _btc("1") + _btc("3")
    finally:
        await comm.disconnect()
