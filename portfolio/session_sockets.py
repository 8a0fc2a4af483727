"""A user who logs out or is deactivated loses their open WebSockets at once.

The session is checked only when a socket connects, so without this an open
socket kept receiving the user's portfolio and alerts. The hub closes the
user's sockets on every server process (a channel-layer broadcast); a
deactivated user's reconnect is anonymous (Django refuses inactive users).
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from asgiref.sync import async_to_sync
from django.contrib.auth import get_user_model
from django.contrib.auth.signals import user_logged_out
from django.db import transaction
from django.db.models.signals import post_save

from streaming.delivery.client_frames import CLOSE_SESSION_ENDED
from streaming.delivery.hub import get_connection_manager

logger = logging.getLogger(__name__)

__all__ = ["close_user_sockets", "connect"]

CLOSE_TIMEOUT = 3.0  # seconds a logout may wait on the channel layer (Redis)


async def _close(user_id: int) -> None:
    try:
        await asyncio.wait_for(
            get_connection_manager().close_user(user_id, code=CLOSE_SESSION_ENDED),
            CLOSE_TIMEOUT,
        )
    except Exception:  # noqa: BLE001 - a logout must not fail because Redis did
        logger.warning("closing the sockets of user %s failed", user_id, exc_info=True)


def close_user_sockets(user_id: int) -> None:
    """From sync code (a view, the admin, a shell): close the user's sockets."""
    async_to_sync(_close)(user_id)


def _on_logged_out(
    sender: Any, request: Any = None, user: Any = None, **kw: Any
) -> None:
    if user is not None and user.pk is not None:
        close_user_sockets(user.pk)


def _on_user_saved(
    sender: Any, instance: Any, created: bool = False, **kw: Any
) -> None:
    if created or instance.is_active:
        return
    user_id = instance.pk
    # After the commit: a rolled-back deactivation must not cut anyone off.
    transaction.on_commit(lambda: close_user_sockets(user_id))


def connect() -> None:
    user_logged_out.connect(_on_logged_out, dispatch_uid="portfolio-logout-sockets")
    post_save.connect(
        _on_user_saved,
        sender=get_user_model(),
        dispatch_uid="portfolio-deactivated-sockets",
    )
