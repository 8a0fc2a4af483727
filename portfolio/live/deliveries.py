"""Job: send the notification outbox (portfolio/notifications/outbox.py).

Wakes on ALERT_TRIGGERED (the rows were committed with the alert) and polls
for retries that came due. Claims, sends and settles run in this job's own
thread pool, never on the event loop and never on the worker's shared
database thread, so a receiver that hangs for its whole timeout holds one of
``concurrency`` slots and nothing else: prices and alert evaluation go on.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from django.conf import settings
from django.db import close_old_connections, connections

from streaming.events import StreamEvent

from ..notifications import outbox, senders
from ..notifications.models import Delivery, DeliveryState
from ..notifications.payload import alert_body

logger = logging.getLogger(__name__)

__all__ = ["DeliveryJob"]


class DeliveryJob:
    """Claims due deliveries (leased in the database) and sends them, bounded."""

    def __init__(
        self,
        *,
        concurrency: int = 4,
        poll_interval: float = 1.0,
        lease_seconds: float = 60.0,
        policy: outbox.RetryPolicy | None = None,
    ) -> None:
        self.concurrency = max(1, concurrency)
        self.poll_interval = poll_interval
        self.lease_seconds = lease_seconds
        self.policy = policy or outbox.RetryPolicy()
        self.sent = 0
        self.failed = 0
        self._wake = asyncio.Event()
        self._inflight: set[asyncio.Future[Any]] = set()
        # One thread more than slots: a claim never waits behind slow sends.
        self._executor = ThreadPoolExecutor(
            max_workers=self.concurrency + 1, thread_name_prefix="notify"
        )

    @classmethod
    def from_settings(cls) -> DeliveryJob:
        return cls(
            concurrency=settings.NOTIFY_CONCURRENCY,
            poll_interval=settings.NOTIFY_POLL_SECONDS,
            lease_seconds=settings.NOTIFY_LEASE_SECONDS,
            policy=outbox.RetryPolicy.from_settings(),
        )

    def wake(self, event: StreamEvent | None = None) -> None:
        """Bus subscriber (ALERT_TRIGGERED): new rows are waiting."""
        self._wake.set()

    async def run(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            self._wake.clear()
            free = self.concurrency - len(self._inflight)
            if free > 0:
                for delivery in await self._claim(loop, free):
                    task = loop.create_task(self._deliver(loop, delivery))
                    self._inflight.add(task)
                    task.add_done_callback(self._done)
            try:
                await asyncio.wait_for(self._wake.wait(), self.poll_interval)
            except TimeoutError:
                pass

    def _done(self, task: asyncio.Future[Any]) -> None:
        self._inflight.discard(task)
        self._wake.set()  # a slot is free: due rows may be waiting for it

    async def _claim(self, loop: asyncio.AbstractEventLoop, limit: int) -> list[Any]:
        try:
            return await loop.run_in_executor(self._executor, self._claim_sync, limit)
        except Exception:  # noqa: BLE001 - database down: claimed next round
            logger.warning("Could not claim deliveries; retrying", exc_info=True)
            return []

    def _claim_sync(self, limit: int) -> list[Delivery]:
        close_old_connections()
        return outbox.delivery_claim_due(limit=limit, lease_seconds=self.lease_seconds)

    async def _deliver(self, loop: asyncio.AbstractEventLoop, delivery: Any) -> None:
        try:
            state = await loop.run_in_executor(self._executor, self.deliver, delivery)
        except Exception:  # noqa: BLE001 - the lease expires; another round sends it
            logger.warning(
                "Delivery %s could not be settled", delivery.pk, exc_info=True
            )
            return
        if state == DeliveryState.SENT:
            self.sent += 1
        elif state == DeliveryState.FAILED:
            self.failed += 1

    def deliver(self, delivery: Delivery) -> str:
        """Send one claimed delivery and record the outcome (blocking; a thread)."""
        close_old_connections()
        channel = delivery.channel
        if channel is None or not channel.enabled:
            reason = "The channel was deleted." if channel is None else "Disabled."
            return outbox.delivery_settle(
                delivery=delivery, ok=False, permanent=True, error=reason
            )
        result = senders.send(
            channel,
            delivery_id=str(delivery.delivery_id),
            alert=alert_body(delivery.alert),
        )
        return outbox.delivery_settle(
            delivery=delivery,
            ok=result.ok,
            permanent=result.permanent,
            status=result.status,
            error=result.error,
            policy=self.policy,
        )

    async def aclose(self, timeout: float = 2.0) -> None:
        """Stop taking work and close each pool thread's database connection.

        Sends under way end by their own timeouts; their leases cover them.
        """
        for task in list(self._inflight):
            task.cancel()
        threads = self.concurrency + 1
        barrier = threading.Barrier(threads)

        def close_connection() -> None:
            connections.close_all()
            try:  # hold this thread so each close lands on a different one
                barrier.wait(timeout)
            except threading.BrokenBarrierError:
                pass  # a thread still busy with a send; its connection goes with it

        futures = [self._executor.submit(close_connection) for _ in range(threads)]
        self._executor.shutdown(wait=False, cancel_futures=False)
        await asyncio.wait(
            [asyncio.wrap_future(f) for f in futures], timeout=timeout + 1
        )
