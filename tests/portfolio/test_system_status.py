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
