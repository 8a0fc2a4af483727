"""The /ws/stream/ endpoint through the real ASGI app and channel layer."""

from __future__ import annotations

import asyncio
import json
from decimal import Decimal

import pytest
from django.conf import settings

from streaming.delivery.messages import MessageType, WebSocketMessage
from streaming.delivery.server import WebSocketServer

pytestmark = [pytest.mark.django_db(transaction=True)]

BTC = {
    "symbol": "BTC",
    "price": "65000.12",
    "source": "binance",
    "timestamp": "2026-11-25T00:00:00+00:00",
}
ETH = {
    "symbol": "ETH",
    "price": "3000.5",
    "source": "coinbase",
    "timestamp": "2026-11-25T00:00:00+00:00",
}


async def send(comm, payload):
    await comm.send_to(text_data=json.dumps(payload))
    return await comm.receive_json_from(timeout=5)


async def nothing_arrives(comm, within=0.3) -> bool:
    return await comm.receive_nothing(timeout=within)


async def test_ping_pong(connection_manager, ws_connect):
    comm = await ws_connect()
    frame = await send(comm, {"action": "ping"})
    assert frame["type"] == MessageType.STATUS.value
    assert frame["data"]["event"] == "pong"
    assert frame["client_id"] == comm.hello["client_id"]
    assert set(frame) == {"type", "data", "client_id", "room", "timestamp"}
    await comm.disconnect()


async def test_prices_reach_the_right_rooms_only(connection_manager, ws_connect):
    all_prices = await ws_connect()
    eth_only = await ws_connect()
    ack = await send(all_prices, {"action": "subscribe", "rooms": ["prices"]})
    assert ack["data"]["subscribed"] == ["prices"]
    await send(eth_only, {"action": "subscribe", "rooms": ["prices.ETH"]})

    await WebSocketServer().broadcast_prices([BTC, ETH])

    frame = await all_prices.receive_json_from(timeout=5)
    assert frame["type"] == "price_update" and frame["room"] == "prices"
    assert frame["data"]["prices"] == [BTC, ETH]
    eth_frame = await eth_only.receive_json_from(timeout=5)
    assert eth_frame["room"] == "prices.ETH"
    assert eth_frame["data"]["prices"] == [ETH]
    assert await nothing_arrives(eth_only)
    assert await nothing_arrives(all_prices)

    await send(all_prices, {"action": "unsubscribe", "rooms": ["prices"]})
    await WebSocketServer().broadcast_price_update("BTC", BTC)
    assert await nothing_arrives(all_prices)
    await all_prices.disconnect()
    await eth_only.disconnect()


async def test_decimal_prices_are_exact_strings(connection_manager, ws_connect):
    comm = await ws_connect()
    await send(comm, {"action": "subscribe", "rooms": ["prices.BTC"]})
    await WebSocketServer().broadcast_price_update(
        "BTC", {"price": Decimal("0.000000000000000001"), "source": "mock"}
    )
    frame = await comm.receive_json_from(timeout=5)
    assert frame["data"]["prices"][0]["price"] == "0.000000000000000001"
    await comm.disconnect()


@pytest.mark.parametrize(
    "raw, expected",
    [
        ("not json", "not valid JSON"),
        ("[1, 2]", "JSON object"),
        ('{"action": "dance"}', "Unknown action"),
        ('{"action": "subscribe", "rooms": "prices"}', "non-empty list"),
        ('{"action": "subscribe", "rooms": ["prices/../x"]}', "Unknown room"),
        ('{"action": "subscribe", "rooms": ["prices.btc"]}', "Unknown room"),
        ('{"action": "subscribe", "rooms": [42]}', "must be strings"),
        ('{"action": "subscribe", "rooms": ["portfolio"]}', "requires logging in"),
        ('{"action": "subscribe", "rooms": ["alerts.1"]}', "private to another user"),
    ],
)
async def test_bad_frames_get_error_and_socket_stays_open(
    connection_manager, ws_connect, raw, expected
):
    comm = await ws_connect()
    await comm.send_to(text_data=raw)
    frame = await comm.receive_json_from(timeout=5)
    assert frame["type"] == "error"
    assert expected in frame["data"]["message"]
    assert (await send(comm, {"action": "ping"}))["data"]["event"] == "pong"
    await comm.disconnect()


async def test_binary_frame_refused(connection_manager, ws_connect):
    comm = await ws_connect()
    await comm.send_to(bytes_data=b"\x00\x01")
    frame = await comm.receive_json_from(timeout=5)
    assert frame["type"] == "error" and "Binary" in frame["data"]["message"]
    await comm.disconnect()


async def test_ten_thousand_rooms_refused(connection_manager, ws_connect):
    comm = await ws_connect()
    rooms = [f"prices.S{i:04d}" for i in range(10_000)]
    frame = await send(comm, {"action": "subscribe", "rooms": rooms})
    assert frame["type"] == "error"  # refused by the frame size limit first
    assert connection_manager.rooms_of(comm.hello["client_id"]) == set()
    await comm.disconnect()


async def test_too_many_rooms_in_one_request_refused(connection_manager, ws_connect):
    comm = await ws_connect()
    rooms = [f"prices.S{i:02d}" for i in range(60)]
    frame = await send(comm, {"action": "subscribe", "rooms": rooms})
    assert frame["type"] == "error" and "At most 50" in frame["data"]["message"]
    assert connection_manager.rooms_of(comm.hello["client_id"]) == set()
    await comm.disconnect()


async def test_oversized_frame_refused_and_closed(connection_manager, ws_connect):
    comm = await ws_connect()
    await comm.send_to(text_data=json.dumps({"action": "ping", "pad": "x" * 20_000}))
    frame = await comm.receive_json_from(timeout=5)
    assert frame["type"] == "error" and "exceeds the limit" in frame["data"]["message"]
    closed = await comm.receive_output(timeout=5)
    assert closed == {"type": "websocket.close", "code": 4009}


async def test_flood_is_rate_limited(connection_manager, ws_connect):
    comm = await ws_connect()
    for _ in range(60):
        await comm.send_to(text_data='{"action": "ping"}')
    frames = [await comm.receive_json_from(timeout=5) for _ in range(60)]
    errors = [f for f in frames if f["type"] == "error"]
    assert errors and errors[0]["data"]["code"] == "rate_limited"
    assert sum(f["type"] == "status" for f in frames) <= 45
    await comm.disconnect()


async def test_private_rooms_only_for_their_owner(
    connection_manager, ws_connect, user, other_user
):
    alice = await ws_connect(user)
    bob = await ws_connect(other_user)
    assert alice.hello["data"]["rooms"] == [f"alerts.{user.pk}", f"portfolio.{user.pk}"]
    refused = await send(
        bob, {"action": "subscribe", "rooms": [f"portfolio.{user.pk}"]}
    )
    assert refused["type"] == "error" and "private" in refused["data"]["message"]
    alias = await send(alice, {"action": "subscribe", "rooms": ["portfolio"]})
    assert alias["data"]["rooms"] == [f"portfolio.{user.pk}"]

    server = WebSocketServer()
    await server.broadcast_portfolio_update({"user_id": user.pk, "total_value": "10"})
    await server.send_alert({"user_id": user.pk, "message": "BTC above 1"})
    portfolio = await alice.receive_json_from(timeout=5)
    assert portfolio["type"] == "portfolio_update"
    assert portfolio["data"]["total_value"] == "10"
    alert = await alice.receive_json_from(timeout=5)
    assert alert["type"] == "alert" and alert["room"] == f"alerts.{user.pk}"
    assert await nothing_arrives(bob)
    await alice.disconnect()
    await bob.disconnect()


async def test_counts_and_client_info(connection_manager, ws_connect, user):
    first = await ws_connect(user)
    second = await ws_connect()
    await send(second, {"action": "subscribe", "rooms": ["prices", "system"]})
    await send(first, {"action": "subscribe", "rooms": ["prices"]})
    assert connection_manager.get_client_count() == 2
    assert connection_manager.get_room_client_count("prices") == 2
    assert connection_manager.get_room_client_count("system") == 1
    info = connection_manager.get_client_info(first.hello["client_id"])
    assert info["user_id"] == user.pk
    assert "prices" in info["rooms"]
    assert connection_manager.get_client_info("nope") is None
    await second.disconnect()
    await asyncio.sleep(0.05)
    assert connection_manager.get_client_count() == 1
    assert connection_manager.get_room_client_count("system") == 0
    await first.disconnect()


async def test_send_to_client_and_broadcast_to_all(connection_manager, ws_connect):
    one = await ws_connect()
    two = await ws_connect()
    await connection_manager.send_to_client(
        one.hello["client_id"], WebSocketMessage(MessageType.STATUS, {"hello": "one"})
    )
    frame = await one.receive_json_from(timeout=5)
    assert frame["data"] == {"hello": "one"}
    assert frame["client_id"] == one.hello["client_id"]
    assert await nothing_arrives(two)
    await connection_manager.broadcast_to_all(
        WebSocketMessage(MessageType.SYSTEM_STATUS, {"feeds": "ok"})
    )
    for comm in (one, two):
        assert (await comm.receive_json_from(timeout=5))["data"] == {"feeds": "ok"}
    await one.disconnect()
    await two.disconnect()


def test_layer_matches_run():
    backend = settings.CHANNEL_LAYERS["default"]["BACKEND"]
    assert ("Redis" in backend) == bool(settings.REDIS_URL)


def test_hub_writes_frames_past_the_session_wrapper_only():
    """The hub's frame sender skips Channels' session wrapper (a no-op for frames)."""
    from channels.sessions import InstanceSessionWrapper

    from streaming.delivery.asgi_transport import frame_sender

    async def raw_send(message):
        return None

    wrapper = InstanceSessionWrapper({"cookies": {}}, raw_send)

    class Wrapped:
        base_send = wrapper.send

    class Plain:
        async def base_send(self, message):
            return None

    assert frame_sender(Wrapped()) is raw_send
    plain = Plain()
    assert frame_sender(plain) == plain.base_send


def test_nesting_is_limited_and_brackets_in_strings_do_not_count():
    from streaming.delivery.client_frames import MAX_DEPTH, ClientError, decode_frame

    deep = '{"a":' * (MAX_DEPTH + 1) + "1" + "}" * (MAX_DEPTH + 1)
    with pytest.raises(ClientError) as refused:
        decode_frame(deep, None)
    assert refused.value.code == "too_deep"
    ok = '{"action": "ping", "note": "' + "[" * 100 + '\\"{{"}'
    assert decode_frame(ok, None)["action"] == "ping"
    with pytest.raises(ClientError):
        decode_frame("[" * 1000 + "]" * 1000, None)  # was a RecursionError
