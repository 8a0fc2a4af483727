"""The durable outbox: deliveries written with their alert, claimed, settled.

State lives only in the database, so a worker restart, a SIGKILL or a standby
taking over loses nothing: a claimed row carries a lease (``lease_until`` and a
random ``lease_token``); a killed worker's lease runs out and the next worker
claims the row again. Claims are a compare-and-set on the token (plus
``SELECT … FOR UPDATE SKIP LOCKED`` where the database has it, PostgreSQL), so
two workers never hold one row. A row once ``sent`` is never claimed again.
"""

from __future__ import annotations

import logging
import random
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.db.models import F, Q
from django.utils import timezone

from .models import Delivery, DeliveryState, NotificationChannel

__all__ = [
    "RetryPolicy",
    "deliveries_create_for_alert",
    "delivery_claim_due",
    "delivery_settle",
]

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class RetryPolicy:
    """Capped exponential backoff with jitter: attempt n waits base·2^(n-1) ≤ cap.

    The jitter multiplies each wait by a factor in [0.5, 1] so receivers that
    came back are not hit by every worker's retries at the same instant.
    """

    max_attempts: int = 8
    base_seconds: float = 10.0
    cap_seconds: float = 600.0

    @classmethod
    def from_settings(cls) -> RetryPolicy:
        return cls(
            max_attempts=settings.NOTIFY_MAX_ATTEMPTS,
            base_seconds=settings.NOTIFY_RETRY_BASE_SECONDS,
            cap_seconds=settings.NOTIFY_RETRY_MAX_SECONDS,
        )

    def ceiling(self, attempt: int) -> float:
        """The wait after failed attempt ``attempt`` (1-based), before jitter."""
        return min(self.cap_seconds, self.base_seconds * 2 ** (attempt - 1))

    def delay(self, attempt: int, rng: random.Random | None = None) -> float:
        return self.ceiling(attempt) * (rng or random).uniform(0.5, 1.0)

    def minimum_span(self) -> float:
        """The shortest time from the first to the last attempt."""
        return sum(0.5 * self.ceiling(n) for n in range(1, self.max_attempts))


def deliveries_create_for_alert(*, alert: Any) -> list[Delivery]:
    """One pending delivery per enabled channel of the owner; call inside the
    transaction that writes the alert, so both exist or neither.

    An alert resting on a simulated price goes only to channels that opt in.
    """
    channels = NotificationChannel.objects.filter(owner_id=alert.owner_id, enabled=True)
    if alert.simulated:
        channels = channels.filter(include_simulated=True)
    now = timezone.now()
    rows = [
        Delivery(alert=alert, channel=channel, kind=channel.kind, next_attempt_at=now)
        for channel in channels
    ]
    return Delivery.objects.bulk_create(rows) if rows else []


def delivery_claim_due(
    *, limit: int, lease_seconds: float, now: datetime | None = None
) -> list[Delivery]:
    """Claim up to ``limit`` due deliveries for ``lease_seconds``; counts the attempt.

    The attempt is counted at the claim, so a worker killed mid-send still
    used one attempt and a receiver that always hangs ends in ``failed``.
    """
    if limit <= 0:
        return []
    now = now or timezone.now()
    with transaction.atomic():
        due = (
            Delivery.objects.filter(
                state=DeliveryState.PENDING, next_attempt_at__lte=now
            )
            .filter(Q(lease_until__isnull=True) | Q(lease_until__lte=now))
            .select_related("alert", "channel")
            .order_by("next_attempt_at", "id")
        )
        if connection.features.has_select_for_update_skip_locked:
            due = due.select_for_update(skip_locked=True, of=("self",))
        claimed = []
        for row in due[:limit]:
            token = uuid.uuid4().hex
            won = Delivery.objects.filter(
                pk=row.pk, state=DeliveryState.PENDING, lease_token=row.lease_token
            ).update(
                lease_until=now + timedelta(seconds=lease_seconds),
                lease_token=token,
                attempts=F("attempts") + 1,
            )
            if won:
                row.lease_token, row.attempts = token, row.attempts + 1
                claimed.append(row)
    return claimed


def delivery_settle(
    *,
    delivery: Delivery,
    ok: bool,
    permanent: bool = False,
    status: int | None = None,
    error: str = "",
    policy: RetryPolicy | None = None,
    now: datetime | None = None,
) -> str:
    """Record one attempt's outcome; returns the new state.

    Success is recorded whoever holds the lease (it was sent: never again).
    A failure is recorded only by the lease holder.
    """
    policy = policy or RetryPolicy.from_settings()
    now = now or timezone.now()
    rows = Delivery.objects.filter(pk=delivery.pk, state=DeliveryState.PENDING)
    fields: dict[str, Any] = {
        "lease_until": None,
        "lease_token": "",
        "last_status": status,
    }
    if ok:
        state = DeliveryState.SENT
        fields.update(state=state, sent_at=now, last_error="")
    else:
        rows = rows.filter(lease_token=delivery.lease_token)
        exhausted = delivery.attempts >= policy.max_attempts
        state = (
            DeliveryState.FAILED if permanent or exhausted else DeliveryState.PENDING
        )
        fields.update(state=state, last_error=error[:500])
        if state == DeliveryState.PENDING:
            wait = policy.delay(delivery.attempts)
            fields["next_attempt_at"] = now + timedelta(seconds=wait)
    if not rows.update(**fields, updated_at=now):
        logger.warning(
            "Delivery %s was settled elsewhere; outcome dropped", delivery.pk
        )
        return (
            Delivery.objects.filter(pk=delivery.pk)
            .values_list("state", flat=True)
            .first()
            or ""
        )
    logger.info(
        "Delivery %s (%s, attempt %d): %s%s",
        delivery.pk,
        delivery.kind,
        delivery.attempts,
        state,
        f" — {error}" if error else "",
    )
    return state
