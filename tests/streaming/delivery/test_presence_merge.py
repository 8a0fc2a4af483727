"""The hub merges a backlog of price frames per room without losing or reordering."""

from __future__ import annotations

import json

from streaming.delivery.merge import merge_price_frames
from streaming.delivery.messages import MessageType, WebSocketMessage
from streaming.delivery.server import price_frames


def prices_frame(*pairs: tuple[str, str]) -> str:
    return price_frames([{"symbol": s, "price": p} for s, p in pairs])[0][1]


def test_single_frame_passes_through_untouched():
    items = [("prices", prices_frame(("BTC", "1")))]
    assert merge_price_frames(items) is items


def test_backlog_of_price_frames_becomes_one_frame_with_every_update_in_order():
    items = [
        ("prices", prices_frame(("BTC", "1"))),
        ("prices", prices_frame(("ETH", "2"), ("SOL", "3"))),
        ("prices", prices_frame(("BTC", "4"))),
    ]
    [(room, text)] = merge_price_frames(items)
    frame = json.loads(text)
    assert room == "prices" and frame["type"] == "price_update"
    assert [(p["symbol"], p["price"]) for p in frame["data"]["prices"]] == [
        ("BTC", "1"),
        ("ETH", "2"),
        ("SOL", "3"),
        ("BTC", "4"),
    ]


def test_other_frames_keep_their_place_and_rooms_stay_apart():
    alert = WebSocketMessage(MessageType.ALERT, {"id": 1}, room="alerts.7").to_json()
    items = [
        ("prices", prices_frame(("BTC", "1"))),
        ("prices.BTC", prices_frame(("BTC", "1"))),
        ("alerts.7", alert),
        ("prices", prices_frame(("BTC", "2"))),
        ("prices", prices_frame(("BTC", "3"))),
    ]
    out = merge_price_frames(items)
    assert [room for room, _ in out] == ["prices", "prices.BTC", "alerts.7", "prices"]
    assert out[2][1] == alert
    last = json.loads(out[3][1])["data"]["prices"]
    assert [p["price"] for p in last] == ["2", "3"]
