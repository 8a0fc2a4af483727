"""The portfolio side of the WebSocket: alerts on connect and acknowledging them.

Hooked into :mod:`streaming` through its ``client_connected`` signal and
``register_action`` so the streaming layer never imports this app.
"""

from __future__ import annotations

import logging
from typing import Any

from channels.db import database_sync_to_async

from streaming.delivery.client_frames import ClientError
from streaming.delivery.consumers import register_action
from streaming.delivery.messages import MessageType, WebSocketMessage
from streaming.delivery.rooms import SYSTEM
from streaming.delivery.signals import client_connected, rooms_joined

from . import selectors, services
from .live.status import STATUS_CACHE_KEY, public_status

logger = logging.getLogger(__name__)

MAX_ACK_IDS = 1000


#: Alerts replayed over the socket on connect, in pages of REPLAY_PAGE; past
#: REPLAY_MAX the client is told which page of ``/api/alerts/`` holds the rest
#: (so a user with 10,000 unacknowledged alerts does not trip the slow-client cut).
REPLAY_PAGE = 200
REPLAY_MAX = 1000

#: Where the replay stopped: (triggered_at, id) of its last alert.
Cursor = tuple[Any, int] | None


@database_sync_to_async
def _replay_page(user_id: int, after: Cursor) -> list[tuple[Cursor, dict[str, Any]]]:
    """The next page of the user's unacknowledged alerts, in the REST list's order.

    Keyset paging on (triggered_at, id), newest first: an alert acknowledged or
    written meanwhile neither shifts a page (a skip) nor repeats one.
    """
    from django.contrib.auth import get_user_model
    from django.db.models import Q

    from .live.alert_jobs import alert_payload

    user = get_user_model().objects.filter(pk=user_id).first()
    if user is None:
        return []
    alerts = selectors.unacknowledged_alerts(owner=user)
    if after is not None:
        at, pk = after
        alerts = alerts.filter(Q(triggered_at__lt=at) | Q(triggered_at=at, id__lt=pk))
    return [
        ((alert.triggered_at, alert.pk), alert_payload(alert))
        for alert in alerts[:REPLAY_PAGE]
    ]


def _rest_page_after(count: int) -> str:
    from django.conf import settings
    from django.urls import reverse

    page_size = settings.REST_FRAMEWORK["PAGE_SIZE"]
    return f"{reverse('alert-list')}?acknowledged=false&page={count // page_size + 1}"


async def send_missed_alerts(
    sender: Any, *, client_id: str, user_id: int | None, manager: Any, **kwargs: Any
) -> None:
    """Alerts stored while the browser was closed reach it on connect, each once.

    Keyed by alert id like the live ALERT frame, so one written while this
    socket connects (both the broadcast and this replay carry it) arrives once.
    """
    if user_id is None:
        return
    replayed, after, more = 0, None, False
    while True:
        page = await _replay_page(user_id, after)
        room_left = REPLAY_MAX - replayed
        for cursor, data in page[:room_left]:
            after = cursor  # where the next page starts
            message = WebSocketMessage(
                MessageType.ALERT, data, room=f"alerts.{user_id}"
            )
            await manager.send_to_client(client_id, message, key=f"alert:{data['id']}")
            replayed += 1
        if len(page) > room_left:
            more = True
        elif len(page) == REPLAY_PAGE and replayed == REPLAY_MAX:
            more = bool(await _replay_page(user_id, after))
        if more or len(page) < REPLAY_PAGE:
            break
    if not replayed:
        return  # nothing missed: no frame (most connects)
    done = {
        "event": "alerts_replayed",
        "replayed": replayed,
        "more": more,
        "next": _rest_page_after(replayed) if more else None,
    }
    await manager.send_to_client(client_id, WebSocketMessage(MessageType.STATUS, done))


NO_WORKER_STATUS: dict[str, Any] = {
    "available": False,
    "data_state": "waiting",
    "message": "Waiting for the price worker to report.",
}


async def current_system_status() -> dict[str, Any]:
    """The worker's last status (cache), or a "waiting" one when it has none."""
    from django.core.cache import cache

    try:
        status = await cache.aget(STATUS_CACHE_KEY)
    except Exception:  # noqa: BLE001 - cache (Redis) down: say we are waiting
        logger.warning("reading the worker status failed", exc_info=True)
        status = None
    if not status:
        return dict(NO_WORKER_STATUS)
    return public_status({"available": True, **status})


async def send_system_status(
    sender: Any, *, client_id: str, rooms: list[str], manager: Any, **kwargs: Any
) -> None:
    """A client that joins ``system`` hears the status now, not at the next tick."""
    if SYSTEM not in rooms:
        return
    message = WebSocketMessage(
        MessageType.SYSTEM_STATUS, await current_system_status(), room=SYSTEM
    )
    await manager.send_to_client(client_id, message)


@database_sync_to_async
def _acknowledge(user_id: int, alert_ids: list[int]) -> int:
    from django.contrib.auth import get_user_model

    user = get_user_model().objects.get(pk=user_id)
    return services.alert_acknowledge(owner=user, alert_ids=alert_ids)


async def ack_action(consumer: Any, payload: dict[str, Any]) -> dict[str, Any]:
    """``{"action": "ack", "alert_ids": [1, 2]}`` acknowledges the user's own alerts."""
    if consumer.user_id is None:
        raise ClientError("Log in to acknowledge alerts.", "forbidden")
    ids = payload.get("alert_ids")
    if (
        not isinstance(ids, list)
        or not ids
        or len(ids) > MAX_ACK_IDS
        or not all(
            isinstance(i, int) and not isinstance(i, bool) and i > 0 for i in ids
        )
    ):
        raise ClientError(
            f'"alert_ids" must be a list of 1 to {MAX_ACK_IDS} positive integers.'
        )
    count = await _acknowledge(consumer.user_id, ids)
    return {"acknowledged": count, "alert_ids": ids}


def connect() -> None:
    client_connected.connect(send_missed_alerts, dispatch_uid="portfolio-missed-alerts")
    rooms_joined.connect(send_system_status, dispatch_uid="portfolio-system-status")
    register_action("ack", ack_action)
