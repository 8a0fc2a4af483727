"""Conflation: per symbol, only the newest price goes out, at most once per interval.

Leading edge: a symbol that has not been published for ``interval`` seconds goes
out at once (low latency for normal tick rates); a burst within the interval
keeps only the newest price, published when the interval ends (bounded rate,
and a slow browser never receives an old price first). Everything due at the
same moment leaves as ONE batch, so one channel-layer message carries many
symbols.

Across symbols, batches are paced by a frame budget: one batch per
``batch_gap`` (default 25 ms) on average, with up to ``burst`` (default 4)
saved up while the market is quiet. Changes that come a little closer than
``batch_gap`` (exchange jitter, a few symbols at once) still leave at once; a
busy market, each symbol on its own leading edge, keeps ticking faster than
that and then shares frames ``batch_gap`` apart instead of one frame each.
Every frame costs a send per browser, so this bounds frames per browser to
``1 / batch_gap`` per second (plus the burst) whatever the tick rate, for at
most ``batch_gap`` of added latency, and only when the budget is spent
(measured in bench/fanout.py; docs/benchmarks.md).

Prices may be offered with their values as they are (Decimal, datetime: the
bus's PRICE_UPDATE data); the sink gets them formatted as JSON-safe plain
data, so the formatting is paid once per price sent, not per tick replaced.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

from streaming.encoding import to_plain
from streaming.events import EventHandler, EventType, StreamEvent

logger = logging.getLogger(__name__)

__all__ = ["ConflatingPublisher"]

Sink = Callable[[list[dict[str, Any]]], Awaitable[None]]


class ConflatingPublisher(EventHandler):
    """Collects price dicts (``offer``, or PRICE_UPDATE events from the bus)
    and hands batches of JSON-safe dicts to ``sink``."""

    def __init__(
        self,
        sink: Sink,
        interval: float = 0.25,
        batch_gap: float = 0.025,
        burst: int = 4,
    ) -> None:
        self._sink = sink
        self.interval = interval
        self.batch_gap = batch_gap
        self.burst = max(1, burst)
        # The frame budget: batches that may leave now, refilled one per gap.
        self._budget = float(self.burst)
        self._budget_at = time.monotonic()
        self._pending: dict[str, dict[str, Any]] = {}
        self._last_sent: dict[str, float] = {}
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self.offered = 0
        self.published = 0
        self.replaced = 0  # conflated away on purpose
        self.batches = 0
        self.sink_errors = 0

    def offer(self, price: dict[str, Any]) -> None:
        """Hot path: remember the newest price for its symbol (O(1), no await)."""
        self.offered += 1
        if self._pending.get(price["symbol"]) is not None:
            self.replaced += 1
        self._pending[price["symbol"]] = price
        self._wake.set()

    def get_supported_event_types(self) -> set[EventType]:
        return {EventType.PRICE_UPDATE}

    async def handle_event(self, event: StreamEvent) -> bool:
        """Bus subscriber (priority 10): the price joins the next batch."""
        self.offer(event.data)
        return True

    async def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="price-publisher")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None

    async def flush(self) -> None:
        """Publish everything pending now, ignoring the interval (shutdown, tests)."""
        batch = list(self._pending.values())
        self._pending.clear()
        await self._send(batch, time.monotonic())

    def _due(self, now: float) -> tuple[list[dict[str, Any]], float | None]:
        batch: list[dict[str, Any]] = []
        next_due: float | None = None
        interval = self.interval
        last_sent = self._last_sent
        for symbol in list(self._pending):
            due = last_sent.get(symbol, 0.0) + interval
            if due <= now:
                batch.append(self._pending.pop(symbol))
            elif next_due is None or due < next_due:
                next_due = due
        return batch, next_due

    async def _send(self, batch: list[dict[str, Any]], now: float) -> None:
        if not batch:
            return
        for price in batch:
            self._last_sent[price["symbol"]] = now
        try:
            await self._sink([to_plain(price) for price in batch])
        except asyncio.CancelledError:
            raise
        except Exception:  # noqa: BLE001 - the layer may be down; keep going
            self.sink_errors += 1
            logger.warning("publishing %d prices failed", len(batch), exc_info=True)
            return
        self.batches += 1
        self.published += len(batch)

    def _refill(self, now: float) -> float:
        """The budget at ``now``: batches that may leave without waiting."""
        if self.batch_gap > 0:
            earned = (now - self._budget_at) / self.batch_gap
            self._budget = min(float(self.burst), self._budget + earned)
        else:
            self._budget = float(self.burst)
        self._budget_at = now
        return self._budget

    async def _run(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            # Let updates that arrived in the same loop turn join this batch;
            # with the budget spent, wait for the next one so close changes
            # share a frame.
            await asyncio.sleep(0)
            budget = self._refill(time.monotonic())
            if budget < 1:
                await asyncio.sleep((1 - budget) * self.batch_gap)
            now = time.monotonic()
            batch, next_due = self._due(now)
            if batch:
                self._budget = self._refill(now) - 1
            await self._send(batch, now)
            if next_due is not None:
                try:
                    await asyncio.wait_for(
                        self._wake.wait(), next_due - time.monotonic()
                    )
                except TimeoutError:
                    pass
                self._wake.set()
