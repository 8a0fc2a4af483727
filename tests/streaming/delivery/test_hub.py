"""ConnectionManager: disconnect_client really closes, and closes only once."""

from __future__ import annotations

import pytest

pytestmark = [pytest.mark.django_db(transaction=True)]


async def test_disconnect_client_closes_the_socket(connection_manager, ws_connect):
    comm = await ws_connect()
    client_id = comm.hello["client_id"]
    await comm.send_json_to({"action": "subscribe", "rooms": ["prices"]})
    await comm.receive_json_from(timeout=5)

    await connection_manager.disconnect_client(client_id)

    assert await comm.receive_output(timeout=5) == {
        "type": "websocket.close",
        "code": 1000,
    }
    assert connection_manager.get_client_info(client_id) is None
    assert connection_manager.get_room_client_count("prices") == 0
    # The server now reports the socket closed; the consumer's disconnect
    # must neither close it again nor fail on the already forgotten client.
    await comm.send_input({"type": "websocket.disconnect", "code": 1000})
    assert await comm.receive_nothing(timeout=0.3)
    await comm.wait(timeout=5)


async def test_client_going_away_is_forgotten_without_a_close(
    connection_manager, ws_connect
):
    comm = await ws_connect()
    client_id = comm.hello["client_id"]
    await comm.send_input({"type": "websocket.disconnect", "code": 1001})
    assert await comm.receive_nothing(timeout=0.3)  # no close sent back
    assert connection_manager.get_client_info(client_id) is None
    assert connection_manager.get_local_client_count() == 0
    await comm.wait(timeout=5)


async def test_disconnect_of_an_unknown_client_is_a_no_op(connection_manager):
    await connection_manager.disconnect_client("nobody")
    assert connection_manager.get_client_count() == 0


async def test_metrics_attributes_are_kept(connection_manager, ws_connect):
    from streaming.delivery.hub import get_connection_manager

    assert get_connection_manager() is connection_manager
    comm = await ws_connect()
    await comm.send_json_to({"action": "subscribe", "rooms": ["system"]})
    await comm.receive_json_from(timeout=5)
    before = connection_manager.frames_delivered
    sent = await connection_manager.deliver_local("system", '{"type":"status"}')
    assert sent == 1 and connection_manager.frames_delivered == before + 1
    assert connection_manager.send_errors == 0
    assert connection_manager.slow_clients_dropped == 0
    assert connection_manager.get_local_client_count() == 1
    assert connection_manager.get_room_client_count("system") == 1
    assert connection_manager.get_client_info(comm.hello["client_id"])["local"]
    await comm.disconnect()
