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
from .live.status import STATUS_CACHE_KEY

logger = logging.getLogger(__name__)

MAX_ACK_IDS = 1000


@database_sync_to_async
def _unacknowledged_payloads(user_id: int) -> list[dict[str, Any]]:
    from django.contrib.auth import get_user_model

    from .live.alert_jobs import alert_payload

    user = get_user_model().objects.filter(pk=user_id).first()
    if user is None:
        return []
    alerts = selectors.unacknowledged_alerts(owner=user).order_by("triggered_at")[:200]
    return [alert_payload(alert) for alert in alerts]


async def send_missed_alerts(
    sender: Any, *, client_id: str, user_id: int | None, manager: Any, **kwargs: Any
) -> None:
    """Alerts stored while the browser was closed reach it on connect."""
    if user_id is None:
        return
    for data in await _unacknowledged_payloads(user_id):
        message = WebSocketMessage(MessageType.ALERT, data, room=f"alerts.{user_id}")
        await manager.send_to_client(client_id, message)


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
    return {"available": True, **status}


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
