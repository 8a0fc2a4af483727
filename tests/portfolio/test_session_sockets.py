"""Sockets of a logged-out or deactivated user are closed (issue 19 item 11: they
kept receiving private frames after logout and after deactivation)."""

from __future__ import annotations

import pytest
from asgiref.sync import sync_to_async
from django.test import Client

from streaming.delivery.client_frames import CLOSE_SESSION_ENDED

pytestmark = [pytest.mark.django_db(transaction=True)]


async def _closed(comm) -> dict:
    """The close the server sent; then the client's side of the handshake, so
    the consumer ends inside the test (left running, it outlived the test's
    channel layer and its teardown waited on a dead connection)."""
    frame = await comm.receive_output(timeout=5)
    await comm.disconnect()
    return frame


async def test_logout_closes_that_users_sockets_only(
    connection_manager, ws_connect, user, other_user
):
    alice_1 = await ws_connect(user)
    alice_2 = await ws_connect(user)
    bob = await ws_connect(other_user)

    def log_in_and_out() -> int:
        browser = Client()
        browser.force_login(user)
        return browser.post("/logout/").status_code

    assert await sync_to_async(log_in_and_out)() in (200, 302)
    for comm in (alice_1, alice_2):
        assert await _closed(comm) == {
            "type": "websocket.close",
            "code": CLOSE_SESSION_ENDED,
        }
    assert await bob.receive_nothing(timeout=0.5)  # another user's stays open
    assert connection_manager.get_local_client_count() == 1
    await bob.disconnect()


async def test_deactivating_a_user_closes_their_sockets(
    connection_manager, ws_connect, user
):
    comm = await ws_connect(user)

    def deactivate() -> None:
        user.is_active = False
        user.save()

    await sync_to_async(deactivate)()
    assert await _closed(comm) == {
        "type": "websocket.close",
        "code": CLOSE_SESSION_ENDED,
    }
    assert connection_manager.get_local_client_count() == 0


async def test_saving_an_active_user_closes_nothing(
    connection_manager, ws_connect, user
):
    comm = await ws_connect(user)

    def touch() -> None:
        user.first_name = "Alice"
        user.save()

    await sync_to_async(touch)()
    assert await comm.receive_nothing(timeout=0.5)
    await comm.disconnect()


async def test_close_user_reaches_every_hub_over_the_layer(
    connection_manager, ws_connect, user
):
    """The close travels as a channel-layer message to every hub (ALL group), so a
    socket on another server process is closed too; here the one hub receives it."""
    comm = await ws_connect(user)
    await connection_manager.close_user(user.pk, code=CLOSE_SESSION_ENDED)
    assert await _closed(comm) == {
        "type": "websocket.close",
        "code": CLOSE_SESSION_ENDED,
    }
