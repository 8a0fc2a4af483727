"""A labelled mock feed: a seeded random walk for development and tests.

Every step moves each price by a whole number of basis points drawn from a
seeded ``random.Random``, so the walk is exact Decimal arithmetic and the same
seed always yields the same prices. Every update carries ``source=MOCK`` so a
mock price can never be mistaken for a market price.
"""

from __future__ import annotations

import asyncio
import logging
import random
import zlib
from datetime import UTC, datetime
from decimal import Decimal

from streaming.feeds.base import (
    BasePriceFeed,
    DataSource,
    FeedStatus,
    PriceFeedProvider,
    PriceUpdate,
)

__all__ = ["MockPriceFeed", "STARTING_PRICES", "starting_price", "quantum_for"]

logger = logging.getLogger(__name__)

STARTING_PRICES: dict[str, Decimal] = {
    "BTC": Decimal("60000.00"),
    "ETH": Decimal("3000.00"),
    "SOL": Decimal("150.0000"),
    "BNB": Decimal("550.0000"),
    "XRP": Decimal("0.5000"),
    "ADA": Decimal("0.4500"),
    "DOGE": Decimal("0.12000000"),
}
MAX_STEP_BPS = 25  # at most 0.25 % per step


def quantum_for(price: Decimal) -> Decimal:
    """Price step like an exchange tick: cents above 1000, 4 places above 1, else 8."""
    if price >= 1000:
        return Decimal("0.01")
    if price >= 1:
        return Decimal("0.0001")
    return Decimal("0.00000001")


def starting_price(symbol: str) -> Decimal:
    """Realistic start for known symbols; a stable (crc32, not hash()) one otherwise."""
    known = STARTING_PRICES.get(symbol)
    if known is not None:
        return known
    cents = zlib.crc32(symbol.encode()) % 100_000 + 1  # 0.01 .. 1000.00
    return (Decimal(cents) / 100).quantize(Decimal("0.0001"))


class MockPriceFeed(BasePriceFeed):
    """Random-walk prices every ``update_interval`` seconds, deterministic per seed."""

    def __init__(
        self,
        symbols: list[str],
        update_interval: float = 1.0,
        *,
        seed: int | None = None,
    ) -> None:
        super().__init__(PriceFeedProvider.MOCK, symbols)
        self.update_interval = update_interval
        self.seed = seed
        self._rng = random.Random(seed)
        self._open: dict[str, Decimal] = {}
        self._price: dict[str, Decimal] = {}
        self._volume: dict[str, Decimal] = {}
        self._task: asyncio.Task[None] | None = None

    def _ensure(self, symbol: str) -> None:
        if symbol not in self._price:
            start = starting_price(symbol)
            self._open[symbol] = start
            self._price[symbol] = start
            self._volume[symbol] = Decimal(self._rng.randint(1_000, 1_000_000))

    def next_updates(self, now: datetime | None = None) -> list[PriceUpdate]:
        """Advance the walk one step for every symbol (pure w.r.t. timers)."""
        now = now or datetime.now(UTC)
        updates = []
        for symbol in self.symbols:
            self._ensure(symbol)
            old = self._price[symbol]
            bps = self._rng.randint(-MAX_STEP_BPS, MAX_STEP_BPS)
            new = (old * (10_000 + bps) / 10_000).quantize(quantum_for(old))
            if new <= 0:
                new = quantum_for(old)
            self._price[symbol] = new
            self._volume[symbol] += self._rng.randint(0, 100)
            change = new - self._open[symbol]
            updates.append(
                PriceUpdate(
                    symbol=symbol,
                    price=new,
                    timestamp=now,
                    volume_24h=self._volume[symbol],
                    change_24h=change,
                    change_percent_24h=(change * 100 / self._open[symbol]).quantize(
                        Decimal("0.0001")
                    ),
                    source=DataSource.MOCK,
                )
            )
        return updates

    tick = next_updates

    async def start(self) -> None:
        """Start the timer loop; the feed reports connected at once."""
        if self._task is None:
            await super().start()
            self._set_status(FeedStatus.CONNECTED)
            self._task = asyncio.create_task(self._run())

    async def stop(self) -> None:
        """Cancel the loop and report disconnected."""
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            try:
                await task
            except asyncio.CancelledError:
                pass
        await super().stop()

    async def _run(self) -> None:
        while True:
            for update in self.next_updates():
                await self.dispatch(update)
            await asyncio.sleep(self.update_interval)
