"""The one in-process publish/subscribe bus of the live path.

Every event type of the specification passes here: PRICE_UPDATE from the
PriceFeedManager, CONNECTION_STATUS from streams and feeds, PORTFOLIO_UPDATE
and ALERT_TRIGGERED published by the domain, SYSTEM_STATUS. Subscribers run
by priority (higher first) on one dispatcher task, so delivery order is
publication order. Handlers are resolved once at subscription time into a
per-event-type table, so the hot path does no type checks per event.
"""

from __future__ import annotations

import asyncio
import inspect
import itertools
import logging
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from streaming.events import EventFilter, EventHandler, EventType, StreamEvent

logger = logging.getLogger(__name__)

__all__ = ["StreamEventBus"]

Subscriber = Callable[[StreamEvent], Any] | EventHandler


@dataclass(frozen=True)
class _Subscription:
    """A registered subscriber; `seq` keeps equal priorities in subscription order.

    ``call`` is the resolved callable (``handle_event`` for an EventHandler) and
    ``types`` the event types it may receive (None: all), both fixed at
    subscription so dispatch needs no isinstance per event.
    """

    subscription_id: str
    handler: Subscriber
    event_filter: EventFilter | None
    priority: int
    seq: int
    call: Callable[[StreamEvent], Any]
    types: frozenset[EventType]
    checks_result: bool
    needs_filter: bool


def _resolve(
    subscription_id: str,
    handler: Subscriber,
    event_filter: EventFilter | None,
    priority: int,
    seq: int,
) -> _Subscription:
    types = frozenset(EventType)
    if isinstance(handler, EventHandler):
        call: Callable[[StreamEvent], Any] = handler.handle_event
        types = frozenset(handler.get_supported_event_types())
        checks_result = True
    else:
        call, checks_result = handler, False
    needs_filter = event_filter is not None
    if event_filter is not None and event_filter.event_types is not None:
        types &= frozenset(event_filter.event_types)
        # A filter on event types alone is fully applied by the table.
        needs_filter = (
            event_filter.sources is not None
            or event_filter.symbols is not None
            or event_filter.custom_filter is not None
        )
    return _Subscription(
        subscription_id,
        handler,
        event_filter,
        priority,
        seq,
        call,
        types,
        checks_result,
        needs_filter,
    )


class StreamEventBus:
    """Bounded queue and one dispatcher task, so publishers never wait on handlers."""

    def __init__(self, max_queue_size: int = 10000, max_history_size: int = 1000):
        self.max_queue_size = max_queue_size
        self.max_history_size = max_history_size
        # A deque and two events rather than asyncio.Queue: one consumer needs
        # none of its bookkeeping, and this runs once per price tick.
        self._queue: deque[StreamEvent] = deque()
        self._ready = asyncio.Event()
        self._idle = asyncio.Event()
        self._idle.set()
        self._subscriptions: dict[str, _Subscription] = {}
        self._ordered: tuple[_Subscription, ...] = ()
        self._by_type: dict[EventType, tuple[_Subscription, ...]] = {}
        self._seq = itertools.count()
        self._history: deque[StreamEvent] = deque(maxlen=max_history_size)
        self._task: asyncio.Task[None] | None = None
        self.events_published = 0
        self.events_processed = 0
        self.events_dropped = 0
        self.handler_errors = 0

    @property
    def running(self) -> bool:
        """Whether the dispatcher task is alive."""
        return self._task is not None and not self._task.done()

    async def start(self) -> None:
        """Start the event bus (idempotent)."""
        if self.running:
            return
        self._task = asyncio.create_task(self._dispatch(), name="stream-event-bus")
        logger.info("event bus started")

    async def stop(self) -> None:
        """Stop the event bus and clear all subscriptions, leaving no task behind."""
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
        self._subscriptions.clear()
        self._reorder()
        logger.info("event bus stopped")

    def subscribe(
        self,
        subscription_id: str,
        handler: Subscriber,
        event_filter: EventFilter | None = None,
        priority: int = 0,
    ) -> bool:
        """Subscribe to events; False when the id is already taken."""
        if subscription_id in self._subscriptions:
            logger.warning("subscription %s already exists", subscription_id)
            return False
        self._subscriptions[subscription_id] = _resolve(
            subscription_id, handler, event_filter, priority, next(self._seq)
        )
        self._reorder()
        return True

    def unsubscribe(self, subscription_id: str) -> bool:
        """Remove a subscription; False when it was unknown."""
        if self._subscriptions.pop(subscription_id, None) is None:
            return False
        self._reorder()
        return True

    def _reorder(self) -> None:
        # Sorted once per change so the dispatcher iterates a ready snapshot.
        self._ordered = tuple(
            sorted(self._subscriptions.values(), key=lambda s: (-s.priority, s.seq))
        )
        self._by_type = {
            kind: tuple(sub for sub in self._ordered if kind in sub.types)
            for kind in EventType
        }

    async def publish(self, event: StreamEvent) -> bool:
        """Publish an event; False (never waiting) when the queue is full."""
        return self.publish_nowait(event)

    def publish_nowait(self, event: StreamEvent) -> bool:
        """Publish from synchronous code (status listeners); same as publish."""
        queue = self._queue
        if len(queue) >= self.max_queue_size:
            self.events_dropped += 1
            logger.warning("event bus full, dropped %s", event.event_type.value)
            return False
        queue.append(event)
        self._idle.clear()
        if not self._ready.is_set():
            self._ready.set()
        self.events_published += 1
        self._history.append(event)
        return True

    async def publish_price_update(
        self, symbol: str, data: dict[str, Any], source: str | None = None
    ) -> bool:
        """Publish a PRICE_UPDATE whose data carries the symbol filters look at."""
        # PriceUpdate.to_dict() already names its symbol: no copy per tick then.
        payload = data if data.get("symbol") == symbol else {**data, "symbol": symbol}
        return self.publish_nowait(
            StreamEvent(EventType.PRICE_UPDATE, payload, source=source)
        )

    async def publish_portfolio_update(
        self, data: dict[str, Any], source: str | None = None
    ) -> bool:
        """Publish a PORTFOLIO_UPDATE event."""
        return await self.publish(
            StreamEvent(EventType.PORTFOLIO_UPDATE, data, source=source)
        )

    async def publish_alert(
        self, data: dict[str, Any], source: str | None = None
    ) -> bool:
        """Publish an ALERT_TRIGGERED event."""
        return await self.publish(
            StreamEvent(EventType.ALERT_TRIGGERED, data, source=source)
        )

    async def wait_idle(self, timeout: float = 5.0) -> bool:
        """Wait until every queued event was delivered; False on timeout."""
        try:
            await asyncio.wait_for(self._idle.wait(), timeout)
        except TimeoutError:
            return False
        return True

    async def _dispatch(self) -> None:
        """The single consumer of the queue, so delivery order is publication order."""
        queue, ready, idle = self._queue, self._ready, self._idle
        while True:
            if not queue:
                idle.set()  # nothing queued and nothing being delivered
                ready.clear()
                await ready.wait()
                continue
            event = queue.popleft()
            try:
                await self._deliver(event)
            finally:
                self.events_processed += 1

    async def _deliver(self, event: StreamEvent) -> None:
        for sub in self._by_type.get(event.event_type, ()):
            try:
                if sub.needs_filter and not sub.event_filter.matches(event):
                    continue
                result = sub.call(event)
                if result is not None and inspect.isawaitable(result):
                    result = await result
                if sub.checks_result and result is False:
                    self.handler_errors += 1
                    logger.warning(
                        "subscriber %s did not handle event %s",
                        sub.subscription_id,
                        event.event_id,
                    )
            except Exception:
                self.handler_errors += 1
                logger.exception(
                    "subscriber %s failed on event %s",
                    sub.subscription_id,
                    event.event_id,
                )

    def get_recent_events(
        self, limit: int = 100, event_type: EventType | None = None
    ) -> list[dict[str, Any]]:
        """Recent published events as dicts, newest first."""
        result: list[dict[str, Any]] = []
        for event in reversed(self._history):
            if len(result) >= limit:
                break
            if event_type is None or event.event_type is event_type:
                result.append(event.to_dict())
        return result

    def get_bus_stats(self) -> dict[str, Any]:
        """Counters for monitoring; all exact, none sampled."""
        return {
            "events_published": self.events_published,
            "events_processed": self.events_processed,
            "events_dropped": self.events_dropped,
            "handler_errors": self.handler_errors,
            "queue_size": len(self._queue),
            "max_queue_size": self.max_queue_size,
            "subscribers": len(self._subscriptions),
            "history_size": len(self._history),
            "running": self.running,
        }
