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
from streaming.delivery.signals import client_connected

from . import selectors, services

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
    register_action("ack", ack_action)
