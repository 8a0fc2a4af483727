"""Job: what the feeds are doing, for the ``system`` room, the cache and /metrics.

Subscribes to CONNECTION_STATUS (feed switches, provider and stream status,
simulation on/off) and publishes a full status as SYSTEM_STATUS at once on
each, and every ``interval`` otherwise. The same dict is stored in the cache
for ``GET /api/streams/status/`` (read by every server process).
"""

from __future__ import annotations

import asyncio
import logging
import time
from datetime import UTC, datetime
from typing import Any

from django.core.cache import cache

from streaming.bus import StreamEventBus
from streaming.events import EventType, StreamEvent
from streaming.feeds.manager import PriceFeedManager
from streaming.publisher import ConflatingPublisher

logger = logging.getLogger(__name__)

__all__ = [
    "DATA_STATES",
    "STATUS_CACHE_KEY",
    "StatusJob",
    "data_state",
    "public_status",
]

STATUS_CACHE_KEY = "streams-status"
STATUS_TTL = 3600
LOG_EVERY = 60.0

#: What the prices are, in the words of the page's status pill: ``live`` only
#: when every watched symbol has a fresh real price.
DATA_STATES = ("live", "stale", "simulated", "waiting")


def data_state(status: dict[str, Any]) -> str:
    """Describe the data, not the socket: simulated beats stale beats live.

    ``waiting``: no symbol has had any price yet (start-up, exchanges not
    answering); ``stale``: some symbol had a price but no feed serves it now.
    """
    symbols = status.get("symbols") or {}
    # The fallback simulation, or PRICE_FEEDS=mock serving as a provider.
    if status.get("mock_active") or any(
        info.get("source") == "mock" for info in symbols.values()
    ):
        return "simulated"
    if not symbols or all(not info.get("last_update") for info in symbols.values()):
        return "waiting"
    if any(info.get("stale") for info in symbols.values()):
        return "stale"
    return "live"


#: What anyone may read in the public ``system`` room: the page's status pill and
#: feed chips. Counters, stream URLs and error counts are worker internals, for
#: staff only (``GET /api/streams/status/`` reads the full status in the cache).
PUBLIC_FIELDS = (
    "available",
    "data_state",
    "mock_active",
    "message",
    "interval",
    "updated_at",
    "serving",
    "symbols",
    "stale_symbols",
    "unsupported",
)
PUBLIC_PROVIDER_FIELDS = ("status", "is_primary", "serving")
PUBLIC_EVENT_FIELDS = ("type", "symbol", "from", "to", "reason", "provider", "status")


def public_status(status: dict[str, Any]) -> dict[str, Any]:
    """The status without worker internals, for the public ``system`` room."""
    public = {k: status[k] for k in PUBLIC_FIELDS if k in status}
    public["providers"] = {
        name: {k: info[k] for k in PUBLIC_PROVIDER_FIELDS if k in info}
        for name, info in (status.get("providers") or {}).items()
    }
    event = status.get("event")
    if isinstance(event, dict) and event.get("type") != "stream_status":
        public["event"] = {k: event[k] for k in PUBLIC_EVENT_FIELDS if k in event}
    return public


class StatusJob:
    """Builds the status dict and publishes it (SYSTEM_STATUS) and caches it."""

    def __init__(
        self,
        bus: StreamEventBus,
        feeds: PriceFeedManager,
        publisher: ConflatingPublisher,
        *,
        interval: float,
    ) -> None:
        self.bus = bus
        self.feeds = feeds
        self.publisher = publisher
        self.interval = interval
        self._published_at_log = 0
        self._tasks: set[asyncio.Task[None]] = set()

    def status(self) -> dict[str, Any]:
        feeds = self.feeds
        symbol_status = feeds.get_symbol_status()
        simulation = feeds.simulation
        status = {
            "providers": feeds.get_provider_status(),
            "serving": {s: info.get("source") for s, info in symbol_status.items()},
            "symbols": symbol_status,
            "stale_symbols": feeds.get_stale_symbols(),
            "unsupported": dict(feeds.unsupported),
            "mock_active": bool(simulation and simulation.active),
            "message": simulation.message if simulation else None,
            "streams": feeds.stream_manager.streams_info(),
            "bus": self.bus.get_bus_stats(),
            "publisher": {
                "offered": self.publisher.offered,
                "published": self.publisher.published,
                "conflated": self.publisher.replaced,
                "batches": self.publisher.batches,
            },
            "updated_at": datetime.now(UTC).isoformat(),
            # The page calls the worker gone (a takeover) when no status came
            # for a few intervals.
            "interval": self.interval,
        }
        status["data_state"] = data_state(status)
        return status

    def handle_connection_event(self, event: StreamEvent) -> None:
        """Bus subscriber (CONNECTION_STATUS): tell everyone at once."""
        logger.info("Feed event: %s", event.data)
        task = asyncio.ensure_future(self.publish(event.data))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def publish(self, event: dict[str, Any] | None = None) -> None:
        status = self.status()
        if event is not None:
            status["event"] = event
        try:
            await cache.aset(STATUS_CACHE_KEY, status, STATUS_TTL)
        except Exception:  # noqa: BLE001 - cache (Redis) down: the room still hears
            logger.warning("storing the status failed", exc_info=True)
        self.bus.publish_nowait(
            StreamEvent(EventType.SYSTEM_STATUS, public_status(status), source="status")
        )

    async def run(self) -> None:
        last_log = time.monotonic()
        while True:
            await asyncio.sleep(self.interval)
            await self.publish()
            if time.monotonic() - last_log >= LOG_EVERY:
                self._log_minute()
                last_log = time.monotonic()

    def _log_minute(self) -> None:
        published = self.publisher.published
        providers = self.feeds.get_provider_status()
        connected = [n for n, s in providers.items() if s.get("status") == "connected"]
        simulation = self.feeds.simulation
        logger.info(
            "Last minute: %d price updates published; connected: %s%s",
            published - self._published_at_log,
            ",".join(connected) or "none",
            " (SIMULATED prices active)" if simulation and simulation.active else "",
        )
        self._published_at_log = published

    async def stop(self) -> None:
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
