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

from streaming.exceptions import ConfigurationError
from streaming.feeds.base import (
    BasePriceFeed,
    FeedStatus,
    PriceFeedProvider,
    PriceHandler,
    PriceUpdate,
)

__all__ = ["PriceFeedManager", "StatusHandler", "FeedFactory", "default_feed_factory"]

logger = logging.getLogger(__name__)

StatusHandler = Callable[[dict[str, Any]], None | Awaitable[None]]
FeedFactory = Callable[[PriceFeedProvider, list[str]], BasePriceFeed]


def default_feed_factory(
    provider: PriceFeedProvider, symbols: list[str]
) -> BasePriceFeed:
    """Build the real feed class for ``provider``.

    The URLs come from the ``BINANCE_WS_URL``/``COINBASE_WS_URL`` Django settings
    when they are configured, so a deployment can point at a local fake exchange.
    """
    if provider is PriceFeedProvider.BINANCE:
        from streaming.feeds.binance import BINANCE_URL, BinancePriceFeed

        return BinancePriceFeed(symbols, url=_setting("BINANCE_WS_URL", BINANCE_URL))
    if provider is PriceFeedProvider.COINBASE:
        from streaming.feeds.coinbase import COINBASE_URL, CoinbasePriceFeed

        url = _setting("COINBASE_WS_URL", COINBASE_URL)
        return CoinbasePriceFeed(symbols, url=url)
    if provider is PriceFeedProvider.MOCK:
        from streaming.feeds.mock import MockPriceFeed

        return MockPriceFeed(symbols)
    raise ConfigurationError(f"unknown provider {provider!r}")


def _setting(name: str, default: str) -> str:
    """A Django setting when Django is configured, else ``default``."""
    try:
        from django.conf import settings

        if settings.configured:
            return getattr(settings, name, None) or default
    except ImportError:
        pass
    return default


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


class PriceFeedManager:
    """Aggregates feeds and forwards the chosen price per symbol to handlers."""

    def __init__(
        self,
        *,
        stale_after: float = 10.0,
        check_interval: float | None = None,
        feed_factory: FeedFactory | None = None,
    ) -> None:
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
        feed = self._factory(provider, list(symbols))
        self.add_feed(feed, is_primary=is_primary)
        return feed

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

    def add_handler(self, handler: PriceHandler) -> None:
        """Register a sync or async handler for the chosen price per symbol."""
        self._handlers.append(handler)

    def add_status_handler(self, handler: StatusHandler) -> None:
        """Register ``handler(event: dict)`` for switches and provider status."""
        self._status_handlers.append(handler)

    def add_symbol(self, symbol: str) -> None:
        """Track ``symbol`` on every provider."""
        for entry in self._entries:
            entry.feed.add_symbol(symbol)
        self._active.setdefault(symbol, None)

    def remove_symbol(self, symbol: str) -> None:
        """Stop tracking ``symbol`` on every provider."""
        for entry in self._entries:
            entry.feed.remove_symbol(symbol)
        self._active.pop(symbol, None)
        self._last_time.pop(symbol, None)

    # lifecycle --------------------------------------------------------------------
    async def start(self) -> None:
        """Start every feed and the staleness checker."""
        for entry in self._entries:
            try:
                await entry.feed.start()
            except Exception:
                # one broken provider must not stop the others: failover covers it
                logger.exception("%s feed failed to start", entry.name)
        if self._checker is None:
            self._checker = asyncio.create_task(self._check_loop())

    async def stop(self) -> None:
        """Stop the checker and every feed."""
        checker, self._checker = self._checker, None
        if checker is not None:
            checker.cancel()
            await asyncio.gather(checker, return_exceptions=True)
        for entry in self._entries:
            await entry.feed.stop()
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    # queries ----------------------------------------------------------------------
    def get_last_update_time(self, symbol: str) -> datetime | None:
        """Exchange time of the last price forwarded for ``symbol``."""
        return self._last_time.get(symbol)

    def get_provider_status(self) -> dict[str, dict[str, Any]]:
        """Per provider: status, counters, symbols, primary flag and symbols served."""
        serving: dict[int, list[str]] = {id(e): [] for e in self._entries}
        for symbol, entry in self._active.items():
            if entry is not None:
                serving[id(entry)].append(symbol)
        result = {}
        for entry in self._entries:
            feed = entry.feed
            result[entry.name] = {
                "status": feed.status.value,
                "connected_since": (
                    feed.connected_since.isoformat() if feed.connected_since else None
                ),
                "messages": feed.messages,
                "errors": feed.errors,
                "out_of_order": feed.out_of_order,
                "symbols": list(feed.symbols),
                "unsupported": sorted(getattr(feed, "unsupported", ())),
                "is_primary": entry.is_primary,
                "serving": sorted(serving[id(entry)]),
            }
        return result

    def get_symbol_status(self) -> dict[str, dict[str, Any]]:
        """Per symbol: serving provider (None when stale), staleness, last update."""
        result = {}
        for symbol, entry in self._active.items():
            last = self._last_time.get(symbol)
            result[symbol] = {
                "source": entry.name if entry else None,
                "stale": entry is None,
                "last_update": last.isoformat() if last else None,
            }
        return result

    def get_stale_symbols(self) -> list[str]:
        """Symbols no feed currently serves (their last price is stale)."""
        return sorted(s for s, e in self._active.items() if e is None)

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
        for handler in self._handlers:
            try:
                result = handler(update)
                if inspect.isawaitable(result):
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

    def _notify(self, event: dict[str, Any]) -> None:
        for handler in self._status_handlers:
            try:
                result = handler(event)
                if inspect.isawaitable(result):
                    self._spawn(result)
            except Exception:
                logger.exception("status handler failed")

    def _spawn(self, coro: Any) -> None:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
