"""Job: every user's live portfolio value, published as PORTFOLIO_UPDATE events.

Bus subscriber at priority 1 (after the browsers' prices and the alert
pre-check): a chosen price only updates the monitors of the users holding
that symbol and marks them dirty, O(holders). Once per publish interval each
dirty user's summary is computed once and, when it changed, published to the
bus (the relay sends it to the owner's room) and checked against the user's
portfolio-value rules.
"""

from __future__ import annotations

import asyncio
import logging
from collections import defaultdict
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from streaming import price_cache
from streaming.bus import StreamEventBus
from streaming.events import StreamEvent

from ..monitor import PortfolioMonitor

logger = logging.getLogger(__name__)

__all__ = ["PortfolioJob", "complete_total"]

#: ``(user_id, total, totals)``: the summary's totals carry its provenance.
PortfolioCheck = Callable[[int, Decimal, dict[str, Any]], None]


def complete_total(summary: dict[str, Any]) -> str | None:
    """The total value only when every holding is priced.

    A partial total (some holdings without a price yet) must neither fire a
    portfolio alert nor enter the value history as a dip.
    """
    totals = summary["totals"]
    if not totals["priced_count"] or totals["unpriced_count"]:
        return None
    return totals["value"]


def _shown(summary: dict[str, Any]) -> tuple:
    """The numbers a summary shows (not its ages): equal means nothing to send."""
    totals = summary["totals"]
    rows = tuple(
        (r["symbol"], r["amount"], r["price"], r["value"], r.get("stale"))
        for r in summary["holdings"]
    )
    return tuple(sorted((k, str(v)) for k, v in totals.items())), rows


class PortfolioJob:
    """Per-user PortfolioMonitors fed from the bus; summaries out at most per tick."""

    def __init__(
        self,
        bus: StreamEventBus,
        *,
        interval: float,
        stale_after: float,
        on_total: PortfolioCheck,
    ) -> None:
        self.bus = bus
        self.interval = interval
        self.stale_after = stale_after
        self.on_total = on_total
        self.monitors: dict[int, PortfolioMonitor] = {}
        self.users_by_symbol: dict[str, set[int]] = defaultdict(set)
        self._dirty: set[int] = set()
        #: What each user's last published summary showed, to skip repeats.
        self._last_shown: dict[int, tuple] = {}

    def handle_price(self, event: StreamEvent) -> None:
        """Bus subscriber (priority 1, PRICE_UPDATE): cheap, no valuation here."""
        price = event.data
        users = self.users_by_symbol.get(price["symbol"])
        if not users:
            return
        for user_id in users:
            monitor = self.monitors.get(user_id)
            if monitor is not None:
                monitor.store_price(price)
        self._dirty.update(users)

    def set_positions(self, positions: dict[int, dict[str, tuple]]) -> set[str]:
        """Replace every user's holdings; returns the symbols now held."""
        for user_id in list(self.monitors):
            if user_id not in positions:
                del self.monitors[user_id]
                self._last_shown.pop(user_id, None)
        self.users_by_symbol = defaultdict(set)
        for user_id, holdings in positions.items():
            monitor = self.monitors.get(user_id)
            if monitor is None:
                monitor = PortfolioMonitor(stale_after=self.stale_after)
                monitor.add_value_change_handler(self._changed(user_id))
                self.monitors[user_id] = monitor
                prices = price_cache.get_prices(holdings)
                if prices:
                    monitor.on_prices(list(prices.values()))
            monitor.set_holdings(holdings)
            for symbol, values in holdings.items():
                if values[0]:  # a closed ledger position needs no prices
                    self.users_by_symbol[symbol].add(user_id)
        return set(self.users_by_symbol)

    def _changed(self, user_id: int) -> Callable[[dict[str, Any]], None]:
        def handler(summary: dict[str, Any]) -> None:
            self._dirty.add(user_id)

        return handler

    def totals(self) -> dict[int, tuple[Decimal, bool]]:
        """Complete ``(total value, simulated)`` per user right now (snapshots)."""
        result = {}
        for user_id, monitor in list(self.monitors.items()):
            summary = monitor.get_holdings_summary()
            total = complete_total(summary)
            if total is not None:
                result[user_id] = (Decimal(total), summary["totals"]["simulated"])
        return result

    async def run(self) -> None:
        while True:
            await asyncio.sleep(self.interval)
            if self._dirty:
                await self.publish_dirty()

    async def publish_dirty(self) -> None:
        users, self._dirty = self._dirty, set()
        for user_id in users:
            monitor = self.monitors.get(user_id)
            if monitor is None:
                continue
            summary = monitor.get_holdings_summary()
            shown = _shown(summary)
            if self._last_shown.get(user_id) == shown:
                continue  # the same numbers again (a price repeated)
            self._last_shown[user_id] = shown
            await self.bus.publish_portfolio_update(
                {**summary, "user_id": user_id}, source="portfolio"
            )
            total = complete_total(summary)
            if total is not None:
                self.on_total(user_id, Decimal(total), summary["totals"])
