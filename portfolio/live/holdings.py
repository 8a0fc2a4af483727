"""Job: keep the live worker's holdings, rules and streamed symbols current.

Every ``interval`` (and at once when a Holding, Transaction or AlertRule is
saved in this process) cheap fingerprints are compared; only a change reloads positions
into the portfolio monitors, the symbols into the feeds, or the alert rules
into the engine.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from asgiref.sync import sync_to_async
from django.db import close_old_connections

from streaming.feeds.manager import PriceFeedManager

from .. import selectors

logger = logging.getLogger(__name__)

__all__ = ["HoldingsJob"]


def _fingerprints() -> tuple[tuple, tuple]:
    close_old_connections()
    return selectors.holdings_fingerprint(), selectors.alert_rules_fingerprint()


def _positions() -> dict[int, dict[str, tuple]]:
    close_old_connections()
    return selectors.positions_by_owner()


def _streamed() -> set[str]:
    close_old_connections()
    return set(selectors.watched_symbols())


class HoldingsJob:
    """Positions → monitors, symbols → feeds, rules → engine, on change only."""

    def __init__(
        self,
        *,
        interval: float,
        fixed_symbols: list[str] | None,
        watch_symbols: list[str],
        set_positions: Callable[[dict[int, dict[str, tuple]]], set[str]],
        reload_rules: Callable[[], Awaitable[int]],
    ) -> None:
        self.interval = interval
        self.fixed_symbols = fixed_symbols
        self.watch_symbols = watch_symbols
        self.set_positions = set_positions
        self.reload_rules = reload_rules
        self.feeds: PriceFeedManager | None = None
        self.symbols: set[str] = set(fixed_symbols or watch_symbols)
        self._holdings_fp: tuple | None = None
        self._rules_fp: tuple | None = None
        self._now = asyncio.Event()
        self._poke: Callable[..., None] | None = None

    async def run(self) -> None:
        while True:
            try:
                await asyncio.wait_for(self._now.wait(), self.interval)
            except TimeoutError:
                pass
            self._now.clear()
            try:
                await self.refresh()
            except Exception:  # noqa: BLE001 - DB briefly down: try again later
                logger.warning("refreshing holdings/rules failed", exc_info=True)

    async def refresh(self, force: bool = False) -> None:
        holdings_fp, rules_fp = await sync_to_async(_fingerprints)()
        if force or holdings_fp != self._holdings_fp:
            positions = await sync_to_async(_positions)()
            self._holdings_fp = holdings_fp
            held = self.set_positions(positions)
            if self.fixed_symbols is None:
                # Everybody's watch list is streamed as well as what is held.
                listed = await sync_to_async(_streamed)()
                self.set_symbols(set(self.watch_symbols) | held | listed)
        if force or rules_fp != self._rules_fp:
            count = await self.reload_rules()
            self._rules_fp = rules_fp
            logger.info("Alert rules loaded: %d enabled", count)

    def set_symbols(self, wanted: set[str]) -> None:
        added, removed = wanted - self.symbols, self.symbols - wanted
        self.symbols = wanted
        feeds = self.feeds
        if feeds is None or not (added or removed):
            return
        for symbol in sorted(added):
            feeds.add_symbol(symbol)
        for symbol in sorted(removed):
            feeds.remove_symbol(symbol)
        logger.info(
            "Symbols now %s (+%s -%s)",
            ",".join(sorted(wanted)),
            ",".join(sorted(added)) or "none",
            ",".join(sorted(removed)) or "none",
        )

    def install_signal_hooks(self) -> None:
        """Holdings/rules saved in this process wake the refresh at once."""
        from django.db.models.signals import post_delete, post_save

        from ..models import AlertRule, Holding, Transaction, WatchedSymbol

        loop = asyncio.get_running_loop()

        def poke(**kwargs: Any) -> None:
            loop.call_soon_threadsafe(self._now.set)

        self._poke = poke
        for model in (Holding, AlertRule, Transaction, WatchedSymbol):
            post_save.connect(poke, sender=model, weak=False)
            post_delete.connect(poke, sender=model, weak=False)

    def remove_signal_hooks(self) -> None:
        from django.db.models.signals import post_delete, post_save

        from ..models import AlertRule, Holding, Transaction, WatchedSymbol

        if self._poke is None:
            return
        for model in (Holding, AlertRule, Transaction, WatchedSymbol):
            post_save.disconnect(self._poke, sender=model)
            post_delete.disconnect(self._poke, sender=model)
        self._poke = None
