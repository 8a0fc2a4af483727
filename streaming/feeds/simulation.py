"""Simulated prices as a last resort: only when no real exchange delivered at all.

Offline (no route to any exchange), a dashboard with no price at all teaches
nothing, so after a start-up window the PriceFeedManager adds a labelled
MockPriceFeed at the lowest rank. Every price it gives carries
``source=mock``. The first real price retires it for good.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

from streaming.feeds.base import BasePriceFeed
from streaming.feeds.listings import default_registry
from streaming.feeds.mock import MockPriceFeed

logger = logging.getLogger(__name__)

__all__ = ["SimulatedFallback"]


class SimulatedFallback:
    """Starts a mock feed after ``after`` seconds without a real price."""

    def __init__(
        self,
        *,
        after: float,
        interval: float,
        symbols: Callable[[], list[str]],
        add: Callable[[BasePriceFeed], None],
        remove: Callable[[BasePriceFeed], None],
        announce: Callable[[bool, str], None],
    ) -> None:
        self.after = after
        self.interval = interval
        self._symbols = symbols
        self._add = add
        self._remove = remove
        self._announce = announce
        self.feed: MockPriceFeed | None = None
        self.retired = False
        self.message: str | None = None
        self._task: asyncio.Task[None] | None = None

    @property
    def active(self) -> bool:
        return self.feed is not None

    def arm(self) -> None:
        """Start the start-up window (idempotent)."""
        if self._task is None and not self.retired:
            self._task = asyncio.create_task(self._wait(), name="feeds-simulation")

    async def _wait(self) -> None:
        await asyncio.sleep(self.after)
        if self.retired:
            return
        self.message = (
            f"No exchange delivered a price within {self.after:g} s (offline?). "
            "Showing SIMULATED prices until a real exchange delivers."
        )
        logger.warning("%s", self.message)
        # Only listed symbols get a simulated price: an unlisted one has no
        # market to imitate, and an invented price would skew every total.
        feed = MockPriceFeed(
            self._symbols(),
            update_interval=self.interval,
            listed=default_registry().listed_anywhere,
        )
        self.feed = feed
        self._add(feed)
        await feed.start()
        self._announce(True, self.message)

    async def retire(self) -> None:
        """A real price arrived: stop simulating, for good."""
        if self.retired:
            return
        self.retired = True
        await self.stop()
        self.message = "A real exchange is delivering prices; simulated prices stopped."
        logger.warning("%s", self.message)
        self._announce(False, self.message)

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
        feed, self.feed = self.feed, None
        if feed is not None:
            self._remove(feed)
            await feed.stop()
