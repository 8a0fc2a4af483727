"""Price-feed building blocks shared by every exchange: enums, PriceUpdate, base feed.

Feeds turn exchange frames into :class:`PriceUpdate` objects and fan them out to
handlers; the :class:`~streaming.feeds.manager.PriceFeedManager` listens to several
feeds and chooses one price per symbol.
"""

from __future__ import annotations

import inspect
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from streaming.encoding import decimal_str as _decimal_str
from streaming.feeds.providers import DataSource, FeedStatus, PriceFeedProvider
from streaming.feeds.symbols import validate_symbol

__all__ = [
    "PriceFeedProvider",
    "DataSource",
    "FeedStatus",
    "PriceUpdate",
    "BasePriceFeed",
    "PriceHandler",
    "FeedStatusListener",
]

logger = logging.getLogger(__name__)


def _utcnow() -> datetime:
    return datetime.now(UTC)


_AMOUNTS = ("price", "volume_24h", "change_24h", "change_percent_24h")


@dataclass(slots=True)
class PriceUpdate:
    """One price for one canonical symbol, as the exchange reported it.

    ``change_percent_24h`` is a ``Decimal`` (the spec says ``Optional[float]``):
    every amount in this product is exact, and ``to_dict`` renders it as a string
    like the other amounts. ``timestamp`` is the exchange's event time (aware UTC).
    """

    symbol: str
    price: Decimal
    timestamp: datetime = field(default_factory=_utcnow)
    volume_24h: Decimal | None = None
    change_24h: Decimal | None = None
    change_percent_24h: Decimal | None = None
    source: DataSource = DataSource.MANUAL
    #: The currency the exchange quoted the price in: Binance quotes USDT
    #: (a stablecoin, not USD), Coinbase USD; shown so nobody mistakes one for USD.
    quote: str = "USD"

    def as_data(self) -> dict[str, Any]:
        """The keys of :meth:`to_dict` with the values as they are (Decimal,
        datetime): the bus's PRICE_UPDATE data. In-process subscribers read the
        numbers without parsing them back, and only prices that leave the
        process are formatted (:func:`streaming.encoding.to_plain`), once each,
        not every tick a conflating publisher replaces."""
        return {
            "symbol": self.symbol,
            "price": self.price,
            "timestamp": self.timestamp,
            "volume_24h": self.volume_24h,
            "change_24h": self.change_24h,
            "change_percent_24h": self.change_percent_24h,
            "source": self.source._value_,  # .value is a Python-level property
            "quote": self.quote,
        }

    def to_dict(self) -> dict[str, Any]:
        """A JSON-safe dict: channel layers and browsers cannot carry Decimal."""
        data = self.as_data()
        for key in _AMOUNTS:
            data[key] = _decimal_str(data[key])
        data["timestamp"] = self.timestamp.isoformat()
        return data


PriceHandler = Callable[[PriceUpdate], None | Awaitable[None]]
FeedStatusListener = Callable[["BasePriceFeed", FeedStatus], None]


class BasePriceFeed:
    """Common state of a feed: symbols, handlers, status, counters.

    Subclasses implement ``start``/``stop`` and call :meth:`dispatch` for each
    parsed price, :meth:`mark_alive` for frames that prove liveness without a
    price (heartbeats) and :meth:`_set_status` when the connection changes.
    """

    def __init__(self, provider: PriceFeedProvider, symbols: list[str]) -> None:
        self.provider = provider
        self.symbols: list[str] = []
        for symbol in symbols:
            if validate_symbol(symbol) not in self.symbols:
                self.symbols.append(symbol)
        # The same symbols as a set: every frame asks, and lists are O(n).
        self._tracked: set[str] = set(self.symbols)
        self.messages = 0
        self.errors = 0
        self.out_of_order = 0
        self.handler_errors = 0
        self.last_update: dict[str, datetime] = {}
        self.last_price: dict[str, PriceUpdate] = {}
        self.last_seen: dict[str, float] = {}
        self.connected_since: datetime | None = None
        #: Symbols the exchange refused (not listed there), reported in status.
        self.unsupported: set[str] = set()
        self._status = FeedStatus.DISCONNECTED
        self._running = False
        self._handlers: list[PriceHandler] = []
        self._status_listeners: list[FeedStatusListener] = []

    # lifecycle -----------------------------------------------------------------
    @property
    def running(self) -> bool:
        """Whether ``start()`` was called and ``stop()`` not since."""
        return self._running

    async def start(self) -> None:
        """Start the price feed; subclasses open their source, then call this."""
        self._running = True

    async def stop(self) -> None:
        """Stop the price feed; subclasses close their source, then call this."""
        self._running = False
        self._set_status(FeedStatus.DISCONNECTED)

    # subscriptions --------------------------------------------------------------
    def add_handler(self, handler: PriceHandler) -> None:
        """Register a sync or async callable receiving every PriceUpdate."""
        self._handlers.append(handler)

    def remove_handler(self, handler: PriceHandler) -> None:
        """Unregister a handler added with :meth:`add_handler`."""
        if handler in self._handlers:
            self._handlers.remove(handler)

    def add_symbol(self, symbol: str) -> None:
        """Track one more canonical symbol."""
        if validate_symbol(symbol) not in self.symbols:
            self.symbols.append(symbol)
            self._tracked.add(symbol)

    def remove_symbol(self, symbol: str) -> None:
        """Stop tracking a symbol and forget its state."""
        if symbol in self.symbols:
            self.symbols.remove(symbol)
            self._tracked.discard(symbol)
        self.last_update.pop(symbol, None)
        self.last_price.pop(symbol, None)
        self.last_seen.pop(symbol, None)

    def tracks(self, symbol: str) -> bool:
        """Whether ``symbol`` is one of this feed's symbols (O(1), per frame)."""
        return symbol in self._tracked

    def add_status_listener(self, listener: FeedStatusListener) -> None:
        """Call ``listener(feed, status)`` on each status change (for the manager)."""
        self._status_listeners.append(listener)

    # status ---------------------------------------------------------------------
    @property
    def status(self) -> FeedStatus:
        return self._status

    @property
    def connected(self) -> bool:
        return self._status is FeedStatus.CONNECTED

    def _set_status(self, status: FeedStatus) -> None:
        if status is self._status:
            return
        logger.info(
            "%s feed: %s -> %s", self.provider.value, self._status.value, status.value
        )
        self._status = status
        if status is FeedStatus.CONNECTED:
            self.connected_since = _utcnow()
        elif status is not FeedStatus.CONNECTING:
            self.connected_since = None
        for listener in list(self._status_listeners):
            try:
                listener(self, status)
            except Exception:
                logger.exception("%s feed: status listener failed", self.provider.value)

    def status_info(self) -> dict[str, Any]:
        """Counters and state as plain data for status pages and events."""
        return {
            "provider": self.provider.value,
            "status": self._status.value,
            "connected_since": (
                self.connected_since.isoformat() if self.connected_since else None
            ),
            "messages": self.messages,
            "errors": self.errors,
            "out_of_order": self.out_of_order,
            "handler_errors": self.handler_errors,
            "symbols": list(self.symbols),
            "unsupported": sorted(self.unsupported),
            "last_update": {s: t.isoformat() for s, t in self.last_update.items()},
        }

    def mark_unsupported(self, symbol: str, reason: str) -> None:
        """Stop tracking a symbol the exchange refused, and say so in status."""
        if symbol in self.symbols:
            logger.warning(
                "%s feed: %s is not supported: %s", self.provider.value, symbol, reason
            )
            # the base method: nothing to unsubscribe on the exchange
            BasePriceFeed.remove_symbol(self, symbol)
            self.unsupported.add(symbol)

    # hot path -------------------------------------------------------------------
    def mark_alive(self, symbol: str) -> None:
        """Record that the exchange is alive for ``symbol`` (heartbeat, no price)."""
        self.last_seen[symbol] = time.monotonic()

    async def dispatch(self, update: PriceUpdate) -> None:
        """Record ``update`` and hand it to every handler; one failing handler
        is logged and counted so the others still get the price."""
        symbol = update.symbol
        self.messages += 1
        self.last_update[symbol] = update.timestamp
        self.last_price[symbol] = update
        self.last_seen[symbol] = time.monotonic()
        for handler in self._handlers:
            try:
                result = handler(update)
                if result is not None and inspect.isawaitable(result):
                    await result
            except Exception:
                self.handler_errors += 1
                logger.exception(
                    "%s feed: handler failed for %s", self.provider.value, symbol
                )
