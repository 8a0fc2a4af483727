"""Bus → WebSocketServer: the last step of the live path inside one process.

Prices reach the server through the conflating publisher (newest per symbol,
batched); everything else the browsers see is relayed here as it comes:
PORTFOLIO_UPDATE to its owner's room, ALERT_TRIGGERED to its owner's alerts
room, SYSTEM_STATUS to the ``system`` room. The domain publishes those events
to the bus and never calls the server itself.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any, Protocol

from streaming import price_cache
from streaming.events import EventHandler, EventType, StreamEvent

logger = logging.getLogger(__name__)

__all__ = ["ALERT_RETRY_DELAYS", "ServerRelay", "PriceSink", "price_sink"]

#: Seconds between the tries of an alert send (about 15 s in all): a Redis blip
#: shorter than that still reaches the open sockets. Portfolio and system frames
#: are not retried; the next tick supersedes them.
ALERT_RETRY_DELAYS: tuple[float, ...] = (0.5, 1.0, 2.0, 4.0, 8.0)


class Broadcaster(Protocol):
    """The WebSocketServer methods the live path uses."""

    async def broadcast_prices(self, prices: list[dict[str, Any]]) -> None: ...
    async def broadcast_portfolio_update(self, data: dict[str, Any]) -> None: ...
    async def send_alert(
        self, data: dict[str, Any], room: str | None = None
    ) -> None: ...
    async def broadcast_system_status(self, data: dict[str, Any]) -> None: ...


PriceSink = Callable[[list[dict[str, Any]]], Awaitable[None]]


def price_sink(server: Broadcaster) -> PriceSink:
    """Where the conflating publisher's batches go: the price cache, then browsers.

    The cache first, so a page rendered right after a frame never shows an
    older price than the frame did.
    """

    async def publish(batch: list[dict[str, Any]]) -> None:
        try:
            await price_cache.astore_prices({p["symbol"]: p for p in batch})
        except Exception:  # noqa: BLE001 - a cache outage must not stop the frames
            logger.warning("storing %d prices in the cache failed", len(batch))
        await server.broadcast_prices(batch)

    return publish


class ServerRelay(EventHandler):
    """Forwards the domain's events to the server; a failure is logged, not fatal.

    The bus only queues the event here: sending (a channel-layer hop, maybe to
    Redis) runs on the relay's own task, so a thousand portfolio updates per
    tick never hold up the next price on the bus.
    """

    def __init__(
        self,
        server: Broadcaster,
        max_pending: int = 10000,
        *,
        retry_delays: tuple[float, ...] = ALERT_RETRY_DELAYS,
    ) -> None:
        self.server = server
        self.retry_delays = retry_delays
        self.relayed = 0
        self.failed = 0
        self.retried = 0
        self.dropped = 0
        self._pending: asyncio.Queue[StreamEvent] = asyncio.Queue(max_pending)
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="server-relay")

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)

    def get_supported_event_types(self) -> set[EventType]:
        return {
            EventType.PORTFOLIO_UPDATE,
            EventType.ALERT_TRIGGERED,
            EventType.SYSTEM_STATUS,
        }

    async def handle_event(self, event: StreamEvent) -> bool:
        """Bus subscriber: queue for sending (never waits on the channel layer)."""
        try:
            self._pending.put_nowait(event)
        except asyncio.QueueFull:
            # Alerts are stored and replayed on connect; portfolios resend next tick.
            self.dropped += 1
            logger.warning("relay backlog full; %s dropped", event.event_type.value)
            return False
        return True

    async def _run(self) -> None:
        while True:
            event = await self._pending.get()
            await self.send(event)

    async def send(self, event: StreamEvent) -> bool:
        """Send one event to the server now; an alert is retried with backoff.

        Retried in line (the relay's one task), so alerts keep their order and
        a layer that is down is not hammered by later events meanwhile.
        """
        kind = event.event_type
        delays = self.retry_delays if kind is EventType.ALERT_TRIGGERED else ()
        for attempt in range(len(delays) + 1):
            if attempt:
                self.retried += 1
                await asyncio.sleep(delays[attempt - 1])
            try:
                await self._send_once(event)
            except Exception:  # noqa: BLE001 - layer down: retried or superseded
                logger.warning(
                    "relaying %s failed (try %d)",
                    kind.value,
                    attempt + 1,
                    exc_info=True,
                )
                continue
            self.relayed += 1
            return True
        self.failed += 1
        return False

    async def _send_once(self, event: StreamEvent) -> None:
        kind = event.event_type
        if kind is EventType.PORTFOLIO_UPDATE:
            await self.server.broadcast_portfolio_update(event.data)
        elif kind is EventType.ALERT_TRIGGERED:
            await self.server.send_alert(event.data)
        else:
            await self.server.broadcast_system_status(event.data)
