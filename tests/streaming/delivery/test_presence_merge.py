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


def test_price_frames_only_for_occupied_rooms():
    prices = [{"symbol": "BTC", "price": "1"}, {"symbol": "ETH", "price": "2"}]
    assert [r for r, _ in price_frames(prices)] == [
        "prices",
        "prices.BTC",
        "prices.ETH",
    ]
    assert [r for r, _ in price_frames(prices, {"prices.ETH"})] == ["prices.ETH"]
    assert price_frames(prices, set()) == []


async def test_no_publish_and_no_serialisation_for_rooms_nobody_joined(
    monkeypatch, settings
):
    # The one-process path (occupancy from this hub); the Redis directory has
    # its own tests below.
    settings.REDIS_URL = ""
    from streaming.delivery import server as server_module
    from streaming.delivery.hub import get_connection_manager

    published, built = [], []
    real_frames = server_module.price_frames

    async def fake_publish(group, room, text):
        published.append(room)

    def counting_frames(prices, occupied=None):
        frames = real_frames(prices, occupied)
        built.extend(room for room, _ in frames)
        return frames

    monkeypatch.setattr(server_module, "publish_frame", fake_publish)
    monkeypatch.setattr(server_module, "price_frames", counting_frames)
    hub = get_connection_manager()
    monkeypatch.setattr(hub, "_rooms", {"prices.ETH": {"c": object()}})
    ws = server_module.WebSocketServer()
    batch = [{"symbol": "BTC", "price": "1"}, {"symbol": "ETH", "price": "2"}]
    await ws.broadcast_prices(batch)
    assert published == built == ["prices.ETH"]
    monkeypatch.setattr(hub, "_rooms", {})
    await ws.broadcast_prices(batch)
    await ws.broadcast_system_status({"ok": True})
    assert published == ["prices.ETH"]


async def test_room_directory_caches_and_fails_open(monkeypatch):
    from streaming.delivery.presence import RoomDirectory

    directory = RoomDirectory("redis://127.0.0.1:1/0", "t")
    calls = []

    async def fetch():
        calls.append(1)
        return {"prices", "system"}

    monkeypatch.setattr(directory, "_fetch", fetch)
    assert await directory.occupied(["prices", "prices.BTC"]) == {"prices"}
    assert await directory.occupied(["prices", "prices.BTC"]) == {"prices"}
    assert len(calls) == 1  # the second answer came from the cache

    async def down():
        raise ConnectionError("redis down")

    monkeypatch.setattr(directory, "_fetch", down)
    directory._until = 0.0
    assert await directory.occupied(["prices.BTC"]) == {"prices.BTC"}
