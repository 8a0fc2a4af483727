"""The system room greets a subscriber with the status now; it names the data."""

from __future__ import annotations

import time

import pytest
from django.core.cache import cache

from portfolio.live.status import STATUS_CACHE_KEY, data_state

pytestmark = pytest.mark.django_db(transaction=True)


async def first_system_status(comm, timeout: float = 1.0) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        left = deadline - time.monotonic()
        assert left > 0, "no system_status within a second of subscribing"
        frame = await comm.receive_json_from(timeout=left)
        if frame["type"] == "system_status":
            return frame


async def test_subscribing_to_system_sends_the_cached_status_at_once(
    connection_manager, ws_connect
):
    await cache.aset(
        STATUS_CACHE_KEY, {"data_state": "simulated", "mock_active": True}, 60
    )
    comm = await ws_connect()
    started = time.monotonic()
    await comm.send_json_to({"action": "subscribe", "rooms": ["system"]})
    frame = await first_system_status(comm)
    assert time.monotonic() - started < 1.0
    assert frame["room"] == "system"
    assert frame["data"]["available"] is True
    assert frame["data"]["data_state"] == "simulated"
    await comm.disconnect()


async def test_without_a_worker_the_greeting_says_waiting(
    connection_manager, ws_connect
):
    await cache.adelete(STATUS_CACHE_KEY)
    comm = await ws_connect()
    await comm.send_json_to({"action": "subscribe", "rooms": ["prices", "system"]})
    frame = await first_system_status(comm)
    assert frame["data"]["available"] is False
    assert frame["data"]["data_state"] == "waiting"
    await comm.disconnect()


async def test_other_rooms_get_no_status_greeting(connection_manager, ws_connect):
    comm = await ws_connect()
    await comm.send_json_to({"action": "subscribe", "rooms": ["prices"]})
    reply = await comm.receive_json_from(timeout=2)
    assert reply["data"]["event"] == "subscribed"
    assert await comm.receive_nothing(timeout=0.3)
    await comm.disconnect()


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        ({"mock_active": True, "symbols": {}}, "simulated"),
        ({"symbols": {}}, "waiting"),
        (
            {"symbols": {"BTC": {"source": "mock", "last_update": "2026-01-01"}}},
            "simulated",
        ),
        ({"symbols": {"BTC": {"stale": True, "last_update": None}}}, "waiting"),
        (
            {
                "symbols": {
                    "BTC": {"stale": True, "last_update": "2026-01-01T00:00:00+00:00"},
                    "ETH": {"stale": False, "last_update": "2026-01-01T00:00:00+00:00"},
                }
            },
            "stale",
        ),
        (
            {"symbols": {"BTC": {"stale": False, "last_update": "2026-01-01T00:00Z"}}},
            "live",
        ),
    ],
)
def test_data_state(status, expected):
    assert data_state(status) == expected


FULL_STATUS = {
    "data_state": "live",
    "mock_active": False,
    "message": None,
    "interval": 5.0,
    "updated_at": "2026-01-01T00:00:00+00:00",
    "providers": {
        "binance": {
            "status": "stale",
            "connection": "connected",
            "connected_since": "2026-01-01T00:00:00+00:00",
            "messages": 1234,
            "errors": 7,
            "out_of_order": 2,
            "symbols": ["BTC"],
            "unsupported": [],
            "is_primary": True,
            "serving": ["BTC"],
        }
    },
    "serving": {"BTC": "binance"},
    "symbols": {"BTC": {"source": "binance", "stale": False, "last_update": None}},
    "stale_symbols": [],
    "unsupported": {},
    "streams": [{"stream_id": "binance-0", "url": "wss://internal:9443/ws"}],
    "bus": {"published": 99, "dropped": 3},
    "publisher": {"offered": 5, "published": 4, "conflated": 1, "batches": 2},
    "event": {"type": "stream_status", "stream_id": "binance-0", "status": "open"},
}
INTERNALS = ("streams", "bus", "publisher", "wss://", "errors", "messages", "stream_id")


async def test_the_public_system_room_shows_no_worker_internals(
    connection_manager, ws_connect
):
    """Issue 19 item 11: anyone (no login) read bus/publisher counters, stream
    URLs and error counts from the ``system`` room."""
    import json

    await cache.aset(STATUS_CACHE_KEY, FULL_STATUS, 60)
    comm = await ws_connect()  # anonymous
    await comm.send_json_to({"action": "subscribe", "rooms": ["system"]})
    frame = await first_system_status(comm)
    text = json.dumps(frame)
    assert [word for word in INTERNALS if word in text] == []
    data = frame["data"]
    # What the page needs is all there.
    assert data["data_state"] == "live" and data["interval"] == 5.0
    assert data["providers"] == {
        "binance": {"status": "stale", "is_primary": True, "serving": ["BTC"]}
    }
    assert data["serving"] == {"BTC": "binance"} and data["stale_symbols"] == []
    await comm.disconnect()


async def test_the_worker_publishes_the_public_status_and_caches_the_full_one():
    from portfolio.live.status import StatusJob
    from streaming.events import EventType

    published = []

    class Bus:
        def publish_nowait(self, event):
            published.append(event)

    job = StatusJob(Bus(), None, None, interval=5.0)
    job.status = lambda: dict(FULL_STATUS)  # type: ignore[method-assign]
    await job.publish()
    [event] = published
    assert event.event_type is EventType.SYSTEM_STATUS
    assert not {"streams", "bus", "publisher"} & set(event.data)
    assert "errors" not in event.data["providers"]["binance"]
    cached = await cache.aget(STATUS_CACHE_KEY)
    assert cached["streams"] and cached["bus"]  # the staff API keeps everything


def test_staff_status_api_keeps_the_full_status(admin_client):
    cache.set(STATUS_CACHE_KEY, FULL_STATUS, 60)
    body = admin_client.get("/api/streams/status/").json()["status"]
    assert body["streams"] == FULL_STATUS["streams"] and body["bus"]["dropped"] == 3
    assert body["providers"]["binance"]["errors"] == 7
