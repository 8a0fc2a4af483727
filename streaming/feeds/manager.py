"""PriceFeedManager: one chosen price per symbol from several feeds, with failover.

Feeds are ranked: the primary first, then the others in the order they were
added. For each symbol the highest-ranked feed that is connected and has sent
something for that symbol (a price or a heartbeat) within ``stale_after``
seconds serves it; only that feed's prices reach the handlers, so two sources
are never interleaved. A lower-ranked feed takes over when the serving one goes
stale or disconnects; a higher-ranked feed takes over again with its next
price. Every switch is logged and reported to status handlers as a plain dict::

    {"type": "feed_switch", "symbol": "BTC", "from": "binance", "to": "coinbase",
     "reason": "stale", "timestamp": "2026-...+00:00"}

``to`` is None when no feed can serve the symbol (its last price is stale).
Provider status changes are reported as ``{"type": "provider_status",
"provider": "binance", "status": "connected", "timestamp": ...}``.

On the live path the manager is where prices enter the event bus: each chosen
price is published as a PRICE_UPDATE event, and every switch, provider and
stream status change as a CONNECTION_STATUS event. It hands its one
StreamManager to every feed it creates, so all exchange sockets are
registered there.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from streaming.bus import StreamEventBus
from streaming.events import EventType, StreamEvent
from streaming.exceptions import ConfigurationError
from streaming.feeds.base import BasePriceFeed, PriceHandler, PriceUpdate
from streaming.feeds.factory import default_feed_factory
from streaming.feeds.feed_status import FeedStatusViews
from streaming.feeds.providers import REAL_PROVIDERS, FeedStatus, PriceFeedProvider
from streaming.feeds.simulation import SimulatedFallback
from streaming.feeds.symbols import is_supported
from streaming.manager import StreamManager
from streaming.stream_types import StreamStatus

__all__ = ["PriceFeedManager", "StatusHandler", "FeedFactory", "default_feed_factory"]

logger = logging.getLogger(__name__)

StatusHandler = Callable[[dict[str, Any]], None | Awaitable[None]]
FeedFactory = Callable[..., BasePriceFeed]


@dataclass(slots=True, eq=False)
class _Entry:
    feed: BasePriceFeed
    is_primary: bool
    rank: int = 0

    @property
    def name(self) -> str:
        return self.feed.provider.value


def _now_iso() -> str:
    return datetime.now(UTC).isoformat()


class PriceFeedManager(FeedStatusViews):
    """Aggregates feeds and forwards the chosen price per symbol to handlers."""

    def __init__(
        self,
        *,
        stale_after: float = 10.0,
        check_interval: float | None = None,
        feed_factory: FeedFactory | None = None,
        stream_manager: StreamManager | None = None,
        event_bus: StreamEventBus | None = None,
        simulate_after: float | None = None,
        mock_interval: float = 1.0,
    ) -> None:
        #: The one owner of every exchange socket of these feeds.
        self.stream_manager = stream_manager or StreamManager()
        self._owns_streams = stream_manager is None
        self.event_bus = event_bus
        if event_bus is not None:
            self.stream_manager.add_status_listener(self._on_stream_status)
        #: Provider name -> symbols it cannot price (never subscribed there).
        self.unsupported: dict[str, list[str]] = {}
        self.real_seen = False
        self.simulation = (
            None
            if simulate_after is None
            else SimulatedFallback(
                after=simulate_after,
                interval=mock_interval,
                symbols=lambda: sorted(self._active),
                add=self.add_feed,
                remove=self.remove_feed,
                announce=self._announce_simulation,
            )
        )
        self.stale_after = stale_after
        self.check_interval = check_interval or min(1.0, stale_after / 3)
        self._factory = feed_factory or default_feed_factory
        self._entries: list[_Entry] = []
        self._by_feed: dict[int, _Entry] = {}
        self._active: dict[str, _Entry | None] = {}
        self._last_time: dict[str, datetime] = {}
        self._handlers: list[PriceHandler] = []
        self._status_handlers: list[StatusHandler] = []
        self._checker: asyncio.Task[None] | None = None
        self._tasks: set[asyncio.Task[Any]] = set()

    # configuration ----------------------------------------------------------------
    def add_provider(
        self, provider: PriceFeedProvider, symbols: list[str], is_primary: bool = False
    ) -> BasePriceFeed:
        """Create the provider's feed with the factory, then :meth:`add_feed` it."""
        self._check_can_add(provider, is_primary)
        feed = self._factory(
            provider,
            self._supported(provider, symbols),
            stream_manager=self.stream_manager,
        )
        self.add_feed(feed, is_primary=is_primary)
        return feed

    def _supported(self, provider: PriceFeedProvider, symbols: list[str]) -> list[str]:
        """The symbols ``provider`` can price; the rest are reported, not sent."""
        ok = [s for s in symbols if is_supported(provider, s)]
        missing = sorted(set(symbols) - set(ok))
        if missing:
            self.unsupported[provider.value] = missing
            logger.warning(
                "%s does not list %s; not subscribed there.",
                provider.value,
                ",".join(missing),
            )
        else:
            self.unsupported.pop(provider.value, None)
        return ok

    def _check_can_add(self, provider: PriceFeedProvider, is_primary: bool) -> None:
        if any(e.feed.provider is provider for e in self._entries):
            raise ConfigurationError(f"provider {provider.value} already added")
        if is_primary and any(e.is_primary for e in self._entries):
            raise ConfigurationError("a primary provider is already configured")

    def add_feed(self, feed: BasePriceFeed, is_primary: bool = False) -> None:
        """Add a ready-made feed (tests inject fakes or feeds using local servers)."""
        self._check_can_add(feed.provider, is_primary)
        entry = _Entry(feed, is_primary)
        if is_primary:
            self._entries.insert(0, entry)
        else:
            self._entries.append(entry)
        for rank, e in enumerate(self._entries):
            e.rank = rank
        self._by_feed[id(feed)] = entry
        feed.add_handler(lambda update, entry=entry: self._on_update(entry, update))
        feed.add_status_listener(self._on_feed_status)
        for symbol in feed.symbols:
            self._active.setdefault(symbol, None)

    def remove_feed(self, feed: BasePriceFeed) -> None:
        """Take a feed out of the ranking; its symbols fail over at once."""
        entry = self._by_feed.pop(id(feed), None)
        if entry is None:
            return
        self._entries.remove(entry)
        for rank, e in enumerate(self._entries):
            e.rank = rank
        for symbol, active in self._active.items():
            if active is entry:
                self._active[symbol] = None
        if self._checker is not None:
            self._spawn(self.check())

    def add_handler(self, handler: PriceHandler) -> None:
        """Register a sync or async handler for the chosen price per symbol."""
        self._handlers.append(handler)

    def add_status_handler(self, handler: StatusHandler) -> None:
        """Register ``handler(event: dict)`` for switches and provider status."""
        self._status_handlers.append(handler)

    def add_symbol(self, symbol: str) -> None:
        """Track ``symbol`` on every provider that can price it."""
        for entry in self._entries:
            provider = entry.feed.provider
            if is_supported(provider, symbol):
                entry.feed.add_symbol(symbol)
            else:
                missing = set(self.unsupported.get(provider.value, ())) | {symbol}
                self.unsupported[provider.value] = sorted(missing)
        self._active.setdefault(symbol, None)

    def remove_symbol(self, symbol: str) -> None:
        """Stop tracking ``symbol`` on every provider."""
        for entry in self._entries:
            entry.feed.remove_symbol(symbol)
        for provider, missing in list(self.unsupported.items()):
            if symbol in missing:
                self.unsupported[provider] = [s for s in missing if s != symbol]
        self._active.pop(symbol, None)
        self._last_time.pop(symbol, None)

    # lifecycle --------------------------------------------------------------------
    async def start(self) -> None:
        """Start every feed, the staleness checker and the simulation window."""
        if not self.stream_manager.running:
            await self.stream_manager.start()
        for entry in list(self._entries):
            try:
                await entry.feed.start()
            except Exception:
                # one broken provider must not stop the others: failover covers it
                logger.exception("%s feed failed to start", entry.name)
        if self._checker is None:
            self._checker = asyncio.create_task(self._check_loop())
        has_real = any(e.feed.provider in REAL_PROVIDERS for e in self._entries)
        if self.simulation is not None and has_real and not self.real_seen:
            self.simulation.arm()

    async def stop(self) -> None:
        """Stop the checker, the simulation and every feed."""
        checker, self._checker = self._checker, None
        if checker is not None:
            checker.cancel()
            await asyncio.gather(checker, return_exceptions=True)
        if self.simulation is not None:
            await self.simulation.stop()
        for entry in list(self._entries):
            await entry.feed.stop()
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        if self._owns_streams:
            await self.stream_manager.stop()

    # queries ----------------------------------------------------------------------
    def get_last_update_time(self, symbol: str) -> datetime | None:
        """Exchange time of the last price forwarded for ``symbol``."""
        return self._last_time.get(symbol)

    # choice -----------------------------------------------------------------------
    def _fresh(self, entry: _Entry, symbol: str, now: float) -> bool:
        feed = entry.feed
        seen = feed.last_seen.get(symbol)
        return feed.connected and seen is not None and now - seen < self.stale_after

    async def _on_update(self, entry: _Entry, update: PriceUpdate) -> None:
        """Hot path: forward when ``entry`` serves the symbol, else maybe take over."""
        symbol = update.symbol
        active = self._active.get(symbol)
        if active is not entry:
            if symbol not in self._active or (active and active.rank < entry.rank):
                return
            self._switch(symbol, active, entry, "recovered" if active else "available")
        self._last_time[symbol] = update.timestamp
        if not self.real_seen and entry.feed.provider in REAL_PROVIDERS:
            self.real_seen = True
            if self.simulation is not None:
                self._spawn(self.simulation.retire())
        bus = self.event_bus
        if bus is not None:
            data = update.as_data()
            await bus.publish_price_update(symbol, data, source=data["source"])
        for handler in self._handlers:
            try:
                result = handler(update)
                if result is not None and inspect.isawaitable(result):
                    await result
            except Exception:
                logger.exception("price handler failed for %s", symbol)

    async def check(self) -> None:
        """Re-evaluate every symbol: drop stale or disconnected feeds, fail over."""
        now = time.monotonic()
        for symbol, active in list(self._active.items()):
            if active is not None and self._fresh(active, symbol, now):
                continue
            best = next((e for e in self._entries if self._fresh(e, symbol, now)), None)
            if best is active:
                continue
            if active is None:
                reason = "available"
            elif not active.feed.connected:
                reason = "disconnected"
            else:
                reason = "stale"
            self._switch(symbol, active, best, reason)
            last = best.feed.last_price.get(symbol) if best else None
            if last is not None:
                await self._on_update(best, last)

    async def _check_loop(self) -> None:
        while True:
            await asyncio.sleep(self.check_interval)
            try:
                await self.check()
            except Exception:
                logger.exception("feed check failed")

    def _switch(
        self, symbol: str, old: _Entry | None, new: _Entry | None, reason: str
    ) -> None:
        self._active[symbol] = new
        event = {
            "type": "feed_switch",
            "symbol": symbol,
            "from": old.name if old else None,
            "to": new.name if new else None,
            "reason": reason,
            "timestamp": _now_iso(),
        }
        log = logger.warning if new is None or not new.is_primary else logger.info
        log(
            "price source for %s: %s -> %s (%s)",
            symbol,
            event["from"],
            event["to"],
            reason,
        )
        self._notify(event)

    def _on_feed_status(self, feed: BasePriceFeed, status: FeedStatus) -> None:
        entry = self._by_feed.get(id(feed))
        if entry is None:
            return
        self._notify(
            {
                "type": "provider_status",
                "provider": entry.name,
                "status": status.value,
                "timestamp": _now_iso(),
            }
        )
        if status is not FeedStatus.CONNECTED and self._checker is not None:
            self._spawn(self.check())

    def _on_stream_status(
        self, stream_id: str, provider: str | None, status: StreamStatus
    ) -> None:
        self._notify(
            {
                "type": "stream_status",
                "stream_id": stream_id,
                "provider": provider,
                "status": status.value,
                "timestamp": _now_iso(),
            }
        )

    def _announce_simulation(self, active: bool, message: str) -> None:
        self._notify(
            {
                "type": "simulation",
                "active": active,
                "message": message,
                "timestamp": _now_iso(),
            }
        )

    def _notify(self, event: dict[str, Any]) -> None:
        if self.event_bus is not None:
            self.event_bus.publish_nowait(
                StreamEvent(EventType.CONNECTION_STATUS, event, source="feeds")
            )
        for handler in self._status_handlers:
            try:
                result = handler(event)
                if result is not None and inspect.isawaitable(result):
                    self._spawn(result)
            except Exception:
                logger.exception("status handler failed")

    def _spawn(self, coro: Any) -> None:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
