"""A WebSocket round trip through the real ASGI application and channel layer."""

from __future__ import annotations

import pytest
from channels.testing import WebsocketCommunicator

from portfolio_site.asgi import application
from streaming.delivery.hub_channel import hub_layer
from streaming.delivery.rooms import group_name

pytestmark = pytest.mark.django_db(transaction=True)


async def test_round_trip_through_channel_layer(connection_manager, ws_connect):
    communicator = await ws_connect()
    try:
        await communicator.send_json_to({"action": "subscribe", "rooms": ["system"]})
        assert (await communicator.receive_json_from(timeout=5))["data"]["event"] == (
            "subscribed"
        )
        # A raw group_send on the hubs' layer, as another process would do it.
        await hub_layer().group_send(
            group_name("system"),
            {
                "type": "room.frame",
                "room": "system",
                "text": '{"type":"system_status"}',
            },
        )
        frame = await communicator.receive_json_from(timeout=5)
        if frame.get("data", {}).get("data_state"):  # the greeting on joining system
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


@pytest.mark.parametrize(
    "origin, accepted",
    [
        (b"http://127.0.0.1:8000", True),
        (b"http://127.0.0.1:3000", False),  # another site on the same host name
        (b"https://127.0.0.1:8000", False),  # another scheme
        (b"http://127.0.0.1", False),  # port 80 is another origin
        (b"http://localhost:8000", False),  # an allowed host, but not this one
        (b"null", False),
        (b"", False),
    ],
)
async def test_origin_must_match_scheme_host_and_port(
    connection_manager, origin, accepted
):
    """Issue 19, item 10: the host name alone was compared."""
    headers = [(b"host", b"127.0.0.1:8000")]
    if origin:
        headers.append((b"origin", origin))
    communicator = WebsocketCommunicator(application, "/ws/stream/", headers=headers)
    connected, _ = await communicator.connect()
    try:
        assert connected is accepted, origin
    finally:
        if connected:
            await communicator.disconnect()


async def test_trusted_origin_is_accepted(connection_manager, settings):
    settings.CSRF_TRUSTED_ORIGINS = ["https://app.example.com"]
    headers = [(b"host", b"127.0.0.1:8000"), (b"origin", b"https://app.example.com")]
    communicator = WebsocketCommunicator(application, "/ws/stream/", headers=headers)
    connected, _ = await communicator.connect()
    assert connected
    await communicator.disconnect()


def test_the_start_up_objects_are_frozen_out_of_garbage_collection():
    """A full collection would scan ~120,000 start-up objects (~70 ms with the
    event loop stopped) each time; frozen, it skips them."""
    import gc

    import portfolio_site.asgi  # noqa: F401 - the import freezes

    assert gc.get_freeze_count() > 50_000
