"""WebSocket bad input not covered in tests/streaming/delivery/test_consumers.py:
room names with odd characters, and a flood that keeps going is closed."""

from __future__ import annotations

import json

import pytest

from streaming.delivery.client_frames import FLOOD_CLOSE_AFTER, RATE_BURST

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.timeout(60)]

ODD_ROOMS = [
    "prices.BTC\x00",
    "prices.\u0000",
    "prices.BTC\n",
    "prices.\u202eCTB",
    "prices.ＢＴＣ",
    "prices.B\u0301TC",
    "prices.🚀",
    "prices.BTC ",
    " prices",
    "prices." + "A" * 10_000,
    "x" * 100_000,
    "",
    ".",
    "prices.",
    "prices..BTC",
    "portfolio.1' OR '1'='1",
    "alerts.-1",
    "alerts.١",
    "room.prices",
    "prices.*",
    "\ud800",
    "system\u200b",
]


async def test_odd_room_names_get_an_error_and_join_nothing(
    connection_manager, ws_connect
):
    comm = await ws_connect()
    for room in ODD_ROOMS:
        await comm.send_to(
            text_data=json.dumps({"action": "subscribe", "rooms": [room]})
        )
        frame = await comm.receive_json_from(timeout=5)
        assert frame["type"] == "error", (room, frame)
        assert frame["data"]["code"] in ("bad_room", "too_large"), frame
        if (
            frame["data"]["code"] == "too_large"
        ):  # the 100 kB name: frame over the limit
            assert (await comm.receive_output(timeout=5))["type"] == "websocket.close"
            comm = await ws_connect()
            continue
        assert len(json.dumps(frame)) < 2000  # the name is not echoed back at length
    await comm.send_to(text_data='{"action": "ping"}')
    assert (await comm.receive_json_from(timeout=5))["data"]["event"] == "pong"
    assert connection_manager.rooms_of(comm.hello["client_id"]) == set()
    await comm.disconnect()


async def test_unpaired_surrogate_in_raw_text(connection_manager, ws_connect):
    comm = await ws_connect()
    await comm.send_to(text_data='{"action": "subscribe", "rooms": ["\\ud800"]}')
    frame = await comm.receive_json_from(timeout=5)
    assert frame["type"] == "error" and frame["data"]["code"] == "bad_room"
    await comm.disconnect()


async def test_sustained_flood_is_rate_limited_then_closed(
    connection_manager, ws_connect
):
    comm = await ws_connect()
    sent = int(RATE_BURST) + FLOOD_CLOSE_AFTER + 50
    for _ in range(sent):
        await comm.send_to(text_data='{"action": "ping"}')
    codes, closed = [], None
    for _ in range(sent + 1):
        out = await comm.receive_output(timeout=5)
        if out["type"] == "websocket.close":
            closed = out
            break
        codes.append(json.loads(out["text"])["data"].get("code"))
    assert "rate_limited" in codes
    assert closed is not None and closed.get("code") == 4008, closed
