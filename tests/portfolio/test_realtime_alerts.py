"""Alerts on connect: each reaches a socket once, and every unacknowledged one is
reachable (issue 19 item 11: duplicates while connecting, only 200 replayed)."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from asgiref.sync import sync_to_async

from portfolio import realtime
from portfolio.live.alert_jobs import alert_payload
from portfolio.models import Alert, AlertKind
from streaming.delivery.server import WebSocketServer

pytestmark = [pytest.mark.django_db(transaction=True)]


def _alerts(owner, count: int, *, start: datetime | None = None) -> list[Alert]:
    start = start or datetime(2026, 1, 1, tzinfo=UTC)
    return Alert.objects.bulk_create(
        Alert(
            owner=owner,
            kind=AlertKind.PRICE_ABOVE,
            symbol="BTC",
            threshold=Decimal("1"),
            message=f"alert {i}",
            observed_value=Decimal("2"),
            sequence=i,
            # Some share a timestamp: the paging must still keep each once.
            triggered_at=start + timedelta(seconds=i // 3),
        )
        for i in range(count)
    )


async def _frames_until_replayed(comm, timeout: float = 20.0) -> tuple[list, dict]:
    """ALERT frames up to the ``alerts_replayed`` status, and that status."""
    alerts = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        frame = await comm.receive_json_from(
            timeout=max(0.05, deadline - time.monotonic())
        )
        if frame["type"] == "alert":
            alerts.append(frame)
        elif frame["data"].get("event") == "alerts_replayed":
            return alerts, frame["data"]
    raise AssertionError("no alerts_replayed status arrived")


async def test_alert_written_while_connecting_arrives_once(
    connection_manager, ws_connect, user, monkeypatch
):
    """The alert is committed after the socket joined its alerts room and before
    the replay query: the live frame and the replay both carry it."""
    server = WebSocketServer()
    page = realtime._replay_page
    written: list[int] = []

    async def racing_page(user_id, after):
        if not written:
            alert = (await sync_to_async(_alerts)(user, 1))[0]
            written.append(alert.pk)
            payload = await sync_to_async(alert_payload)(alert)
            await server.send_alert(payload)  # the worker's live frame
        return await page(user_id, after)

    monkeypatch.setattr(realtime, "_replay_page", racing_page)
    comm = await ws_connect(user)
    alerts, done = await _frames_until_replayed(comm)
    assert await comm.receive_nothing(timeout=0.5)  # nothing late either
    assert [f["data"]["id"] for f in alerts] == written  # once, not twice
    assert done["replayed"] == 1
    await comm.disconnect()


async def test_every_unacknowledged_alert_is_replayed_once_in_pages(
    connection_manager, ws_connect, user
):
    created = await sync_to_async(_alerts)(user, 450)  # was: only 200 replayed
    comm = await ws_connect(user)
    alerts, done = await _frames_until_replayed(comm)
    ids = [f["data"]["id"] for f in alerts]
    assert len(ids) == len(set(ids)) == 450
    assert set(ids) == {a.pk for a in created}
    assert done == {
        "event": "alerts_replayed",
        "replayed": 450,
        "more": False,
        "next": None,
    }
    await comm.disconnect()


async def test_past_the_socket_cap_the_rest_is_one_rest_page_away(
    connection_manager, ws_connect, user, monkeypatch, api
):
    monkeypatch.setattr(realtime, "REPLAY_MAX", 100)
    created = await sync_to_async(_alerts)(user, 180)
    comm = await ws_connect(user)
    alerts, done = await _frames_until_replayed(comm)
    socket_ids = [f["data"]["id"] for f in alerts]
    assert len(socket_ids) == 100 and done["more"] is True
    assert done["next"] == "/api/alerts/?acknowledged=false&page=3"  # 50 a page
    rest_ids: list[int] = []
    url = done["next"]
    while url:
        body = (await sync_to_async(api.get)(url)).json()
        rest_ids += [a["id"] for a in body["results"]]
        url = body["next"]
    # Socket and REST together: every alert, each exactly once.
    assert sorted(socket_ids + rest_ids) == sorted(a.pk for a in created)
    await comm.disconnect()
