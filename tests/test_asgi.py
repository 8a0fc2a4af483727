"""A WebSocket round trip through the real ASGI application and channel layer."""

from __future__ import annotations

import pytest
from channels.layers import get_channel_layer
from channels.testing import WebsocketCommunicator

from portfolio_site.asgi import application
from streaming.delivery.rooms import group_name

pytestmark = pytest.mark.django_db(transaction=True)


async def test_round_trip_through_channel_layer(connection_manager, ws_connect):
    communicator = await ws_connect()
    try:
        await communicator.send_json_to({"action": "subscribe", "rooms": ["system"]})
        assert (await communicator.receive_json_from(timeout=5))["data"]["event"] == (
            "subscribed"
        )
        # A raw group_send on the layer, as another process would do it.
        await get_channel_layer().group_send(
            group_name("system"),
            {
                "type": "room.frame",
                "room": "system",
                "text": '{"type":"system_status"}',
            },
        )
        frame = await communicator.receive_json_from(timeout=5)
        assert frame == {"type": "system_status"}
    finally:
        await communicator.disconnect()


async def test_foreign_origin_refused():
    communicator = WebsocketCommunicator(
        application, "/ws/stream/", headers=[(b"origin", b"http://evil.example")]
    )
    connected, _ = await communicator.connect()
    assert not connected
