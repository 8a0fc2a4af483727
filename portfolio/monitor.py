"""PortfolioMonitor (streaming API specification): one portfolio's live value.

Holds amounts (and optional cost bases) and the latest price per symbol,
values them with ``portfolio.valuation`` and tells its handlers when the value
changes. The worker feeds it chosen prices through ``on_price``; standalone use
starts its own price feed with ``start_monitoring``.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
from collections.abc import Callable, Mapping
from dataclasses import replace
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from .valuation import Position, parse_decimal, portfolio_summary

__all__ = ["PortfolioMonitor"]

logger = logging.getLogger(__name__)

ValueChangeHandler = Callable[[dict[str, Any]], Any]


def _amount(value: Any, name: str = "amount") -> Decimal:
    if isinstance(value, float):
        raise TypeError(f"{name} must be a Decimal, int or str, not float.")
    parsed = parse_decimal(value)
    if parsed is None:
        raise ValueError(f"{name} {value!r} is not a decimal number.")
    return parsed


class PortfolioMonitor:
    """Real-time value of a set of holdings, exact to the last digit."""

    def __init__(
        self,
        *,
        stale_after: float | None = None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        if stale_after is None:
            from django.conf import settings

            stale_after = getattr(settings, "PRICE_STALE_AFTER", 10.0)
        self.stale_after = stale_after
        self._clock = clock
        self._positions: dict[str, Position] = {}
        self._prices: dict[str, dict[str, Any]] = {}
        self._handlers: list[ValueChangeHandler] = []
        self._last_signature: tuple | None = None
        self._feed: Any = None
        self._tasks: set[asyncio.Task] = set()

    # -- holdings ---------------------------------------------------------
    def add_holding(
        self, symbol: str, amount: Decimal, cost_basis: Decimal | None = None
    ) -> None:
        """Add a holding; a symbol already held raises ValueError (use update)."""
        if symbol in self._positions:
            raise ValueError(f"{symbol} is already held; use update_holding().")
        self._set(symbol, amount, cost_basis)

    def update_holding(self, symbol: str, amount: Decimal) -> None:
        """Change the amount of a held symbol (KeyError if not held)."""
        position = self._positions[symbol]
        self._set(symbol, amount, position.cost_basis)

    def remove_holding(self, symbol: str) -> None:
        """Stop tracking a symbol (no error if it was not held)."""
        if self._positions.pop(symbol, None) is not None:
            self._changed()

    def set_cost_basis(self, symbol: str, cost: Decimal | None) -> None:
        """Total amount paid for a held symbol (None: unknown)."""
        position = self._positions[symbol]
        cost_basis = None if cost is None else _amount(cost, "cost basis")
        self._positions[symbol] = replace(position, cost_basis=cost_basis)
        self._changed()

    def set_holdings(self, positions: Mapping[str, tuple]) -> None:
        """Replace all holdings at once: ``{symbol: (amount, cost_basis)}``.

        The ledger adds ``realized_pl`` and ``unknown_cost_amount``:
        ``(amount, cost_basis, realized_pl, unknown_cost_amount)``; with a
        realized P/L the amount may be 0 (a closed position, kept for its P/L).
        """
        self._positions = {
            symbol: self._position(symbol, *values)
            for symbol, values in positions.items()
        }
        self._changed()

    def _position(
        self,
        symbol: str,
        amount: Any,
        cost: Any = None,
        realized: Any = None,
        unknown: Any = None,
    ) -> Position:
        closed = realized is not None and _amount(amount) == 0
        return Position(
            symbol,
            _amount(amount) if closed else self._checked(amount),
            None if cost is None else _amount(cost, "cost basis"),
            None if realized is None else _amount(realized, "realized P/L"),
            None if unknown is None else _amount(unknown, "unknown-cost amount"),
        )

    @property
    def symbols(self) -> list[str]:
        return sorted(self._positions)

    def _checked(self, amount: Any) -> Decimal:
        value = _amount(amount)
        if value <= 0:
            raise ValueError(f"amount must be greater than 0 (got {value}).")
        return value

    def _set(self, symbol: str, amount: Any, cost_basis: Any) -> None:
        cost = None if cost_basis is None else _amount(cost_basis, "cost basis")
        self._positions[symbol] = Position(symbol, self._checked(amount), cost)
        if self._feed is not None and hasattr(self._feed, "add_symbol"):
            self._feed.add_symbol(symbol)
        self._changed()

    # -- prices -------------------------------------------------------------
    def on_price(self, price: Mapping[str, Any]) -> None:
        """Take a chosen price dict (``price_cache`` format) and recompute."""
        symbol = price.get("symbol")
        if not symbol:
            return
        self._prices[symbol] = dict(price)
        if symbol in self._positions:
            self._changed()

    def on_prices(self, prices: list[Mapping[str, Any]]) -> None:
        """Take a batch of chosen prices and recompute once (the worker's path)."""
        touched = False
        for price in prices:
            symbol = price.get("symbol")
            if symbol:
                self._prices[symbol] = price
                touched = touched or symbol in self._positions
        if touched:
            self._changed()

    def store_price(self, price: Mapping[str, Any]) -> None:
        """Remember a chosen price without revaluing: the live worker revalues
        each dirty portfolio once per tick instead of once per price."""
        symbol = price.get("symbol")
        if symbol:
            self._prices[symbol] = price

    def _on_update(self, update: Any) -> None:
        self.on_price(update.to_dict() if hasattr(update, "to_dict") else update)

    # -- reading ------------------------------------------------------------
    def get_holdings_summary(self) -> dict[str, Any]:
        """The full JSON-safe summary (see ``valuation.portfolio_summary``)."""
        return portfolio_summary(
            holdings=self._positions.values(),
            prices=self._prices,
            now=self._clock(),
            stale_after=self.stale_after,
        )

    def get_current_value(self) -> Decimal:
        """Total value of the priced holdings (unpriced ones left out)."""
        return Decimal(self.get_holdings_summary()["totals"]["value"])

    # -- notification ---------------------------------------------------------
    def add_value_change_handler(self, handler: ValueChangeHandler) -> None:
        """Call ``handler(summary)`` whenever the value changes (sync or async)."""
        self._handlers.append(handler)

    def _signature(self, summary: dict[str, Any]) -> tuple:
        rows = tuple(
            (r["symbol"], r["amount"], r["price"], r["cost_basis"])
            for r in summary["holdings"]
        )
        totals = summary["totals"]
        return totals["value"], totals.get("realized_pl"), rows

    def _changed(self) -> None:
        summary = self.get_holdings_summary()
        signature = self._signature(summary)
        if signature == self._last_signature:
            return
        self._last_signature = signature
        for handler in list(self._handlers):
            self._call(handler, summary)

    def _call(self, handler: ValueChangeHandler, summary: dict[str, Any]) -> None:
        try:
            result = handler(summary)
        except Exception:
            logger.exception("Portfolio value handler %r failed", handler)
            return
        if inspect.isawaitable(result):
            task = asyncio.ensure_future(result)
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    # -- own feed -------------------------------------------------------------
    async def start_monitoring(self, provider: Any = None) -> None:
        """Start a price feed of ``provider`` (default MOCK) for the held symbols."""
        from streaming import MockPriceFeed, PriceFeedManager, PriceFeedProvider

        if self._feed is not None:
            return
        provider = provider or PriceFeedProvider.MOCK
        if provider == PriceFeedProvider.MOCK:
            feed = MockPriceFeed(self.symbols)
        else:
            feed = PriceFeedManager()
            feed.add_provider(provider, self.symbols, is_primary=True)
        feed.add_handler(self._on_update)
        self._feed = feed
        await feed.start()

    async def stop_monitoring(self) -> None:
        """Stop the feed started by ``start_monitoring`` (no-op if none)."""
        feed, self._feed = self._feed, None
        if feed is not None:
            await feed.stop()
