"""A WebSocket round trip through the real ASGI application and channel layer."""

from __future__ import annotations

import pytest
from channels.layers import get_channel_layer
from channels.testing import WebsocketCommunicator

from portfolio_site.asgi import application

pytestmark = pytest.mark.django_db(transaction=True)

HEADERS = [(b"origin", b"http://127.0.0.1:8000"), (b"host", b"127.0.0.1:8000")]


async def test_round_trip_through_channel_layer():
    communicator = WebsocketCommunicator(application, "/ws/stream/", headers=HEADERS)
    connected, _ = await communicator.connect()
    assert connected
    try:
        await communicator.send_json_to({"action": "ping"})
        assert (await communicator.receive_json_from(timeout=5))["type"] == "pong"
        layer = get_channel_layer()
        await layer.group_send("system", {"type": "system.status", "data": {"ok": "yes"}})
        frame = await communicator.receive_json_from(timeout=5)
        assert frame["type"] == "system_status"
        assert frame["data"] == {"ok": "yes"}
    finally:
        await communicator.disconnect()


async def test_foreign_origin_refused():
    communicator = WebsocketCommunicator(
        application, "/ws/stream/", headers=[(b"origin", b"http://evil.example")]
    )
    connected, _ = await communicator.connect()
    assert not connected
