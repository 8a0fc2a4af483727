"""Job: price and portfolio alerts, written before anyone is told.

Bus subscriber at priority 5: the engine's pure pre-check decides on the hot
path whether a price may cross a rule; only then is a job queued, and the
database work runs in a worker thread. Each Alert row is committed first,
then published as ALERT_TRIGGERED (the relay sends it to the owner's alerts
room). A failed evaluation (database down) is retried, the same job first and
in order, so a crossing seen during an outage is written once the database is
back, even if the price went back below the line meanwhile.
"""

from __future__ import annotations

import asyncio
import logging
from decimal import Decimal
from typing import Any

from asgiref.sync import sync_to_async
from django.db import DatabaseError, InterfaceError, close_old_connections

from streaming.bus import StreamEventBus
from streaming.events import StreamEvent

from ..alerts import AlertEngine
from ..models import Alert

logger = logging.getLogger(__name__)

__all__ = ["AlertJob", "alert_payload"]

RETRY_DELAY = 1.0
MAX_RETRY_DELAY = 10.0


def alert_payload(alert: Alert) -> dict[str, Any]:
    """The ALERT frame's data: the REST representation plus the owner's id."""
    from ..api.serializers import AlertSerializer

    return {**AlertSerializer(alert).data, "user_id": alert.owner_id}


class AlertJob:
    """Queue of possible crossings, evaluated against the database one by one."""

    def __init__(self, bus: StreamEventBus, engine: AlertEngine) -> None:
        self.bus = bus
        self.engine = engine
        self.triggered = 0
        self._queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue(maxsize=10000)

    def handle_price(self, event: StreamEvent) -> None:
        """Bus subscriber (priority 5, PRICE_UPDATE): pure pre-check only."""
        if self.engine.price_may_fire(event.data):
            self._put({"price": event.data})

    def check_total(
        self, user_id: int, total: Decimal, totals: dict[str, Any] | None = None
    ) -> None:
        """A user's complete portfolio value; queue it when a rule may fire.

        ``totals`` (the summary's) carries the provenance the Alert stores.
        """
        if self.engine.portfolio_may_fire(user_id, total):
            totals = totals or {}
            self._put(
                {
                    "user_id": user_id,
                    "total": total,
                    "simulated": bool(totals.get("simulated")),
                    "sources": totals.get("sources") or {},
                }
            )

    def _put(self, job: dict[str, Any]) -> None:
        try:
            self._queue.put_nowait(job)
        except asyncio.QueueFull:
            logger.error("alert queue full; crossing will be re-detected on next tick")

    async def reload_rules(self) -> int:
        return await sync_to_async(self._reload)()

    def _reload(self) -> int:
        close_old_connections()
        return self.engine.reload()

    async def run(self) -> None:
        while True:
            job = await self._queue.get()
            alerts = await self._evaluate_until_done(job)
            for data in alerts:
                self.triggered += 1
                await self.bus.publish_alert(data, source="alerts")

    async def _evaluate_until_done(self, job: dict[str, Any]) -> list[dict[str, Any]]:
        """Evaluate ``job``, retrying it while the database is unavailable.

        Dropping it (and waiting for the next value) lost a brief crossing:
        the next values were below the line again. The engine's state only
        changes on a committed evaluation, so a retry cannot fire twice.
        """
        delay = RETRY_DELAY
        while True:
            try:
                return await sync_to_async(self._evaluate, thread_sensitive=True)(job)
            except (DatabaseError, InterfaceError):
                logger.warning(
                    "alert evaluation failed; retrying in %.0f s", delay, exc_info=True
                )
            except Exception:  # noqa: BLE001 - not the database: a bug, skip it
                logger.exception("alert evaluation failed; job dropped")
                return []
            await asyncio.sleep(delay)
            delay = min(delay * 2, MAX_RETRY_DELAY)

    def _evaluate(self, job: dict[str, Any]) -> list[dict[str, Any]]:
        close_old_connections()
        if "price" in job:
            fired = self.engine.evaluate_price(job["price"])
        else:
            fired = self.engine.evaluate_portfolio(
                job["user_id"],
                job["total"],
                simulated=job.get("simulated", False),
                sources=job.get("sources"),
            )
        return [alert_payload(alert) for alert in fired]
