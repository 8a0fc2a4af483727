"""A labelled mock feed: a seeded random walk for development and tests.

Each step moves a price by a normal draw (seeded ``random.Random``) scaled to
the asset's real order of volatility over the step's duration: BTC moves a
few hundredths of a percent in 30 s, as on the market, not 1.6 %. The drawn
move is rounded to 0.01 basis point and applied in exact Decimal arithmetic,
so the same seed always yields the same prices. Every update carries
``source=MOCK`` so a mock price can never be mistaken for a market price. With
``listed`` the feed prices only symbols an exchange lists; the others are
reported unsupported rather than given an invented price.
"""

from __future__ import annotations

import asyncio
import logging
import math
import random
import zlib
from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal

from streaming.feeds.base import (
    BasePriceFeed,
    DataSource,
    FeedStatus,
    PriceFeedProvider,
    PriceUpdate,
)

__all__ = [
    "MockPriceFeed",
    "STARTING_PRICES",
    "ANNUAL_VOLATILITY",
    "starting_price",
    "quantum_for",
    "step_sigma_bps",
]

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
#: Annualised volatility, the real order of magnitude (2023-24 realised vol).
ANNUAL_VOLATILITY: dict[str, float] = {
    "BTC": 0.50,
    "ETH": 0.60,
    "SOL": 0.85,
    "BNB": 0.50,
    "XRP": 0.75,
    "ADA": 0.75,
    "DOGE": 0.90,
    "USDT": 0.005,
    "USDC": 0.005,
    "DAI": 0.005,
    "FDUSD": 0.005,
}
DEFAULT_VOLATILITY = 0.90  # a typical altcoin
SECONDS_PER_YEAR = 365 * 24 * 3600
#: No single step beyond this many standard deviations (a fat tail, capped).
MAX_SIGMAS = 4.0
BPS_QUANTUM = Decimal("0.01")


def step_sigma_bps(symbol: str, seconds: float) -> float:
    """Standard deviation of one step of ``seconds``, in basis points."""
    annual = ANNUAL_VOLATILITY.get(symbol, DEFAULT_VOLATILITY)
    return annual * math.sqrt(max(seconds, 0.001) / SECONDS_PER_YEAR) * 10_000


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
        listed: Callable[[str], bool] | None = None,
    ) -> None:
        self._listed = listed
        super().__init__(PriceFeedProvider.MOCK, [])
        for symbol in symbols:
            self.add_symbol(symbol)
        self.update_interval = update_interval
        self.seed = seed
        self._rng = random.Random(seed)
        self._open: dict[str, Decimal] = {}
        self._price: dict[str, Decimal] = {}
        self._volume: dict[str, Decimal] = {}
        self._task: asyncio.Task[None] | None = None

    def add_symbol(self, symbol: str) -> None:
        """Track a symbol, unless no exchange lists it (then say so in status)."""
        if self._listed is not None and not self._listed(symbol):
            logger.warning("simulation: %s is not listed anywhere; no price", symbol)
            self.unsupported.add(symbol)
            return
        super().add_symbol(symbol)

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
            sigma = step_sigma_bps(symbol, self.update_interval)
            draw = max(-MAX_SIGMAS, min(MAX_SIGMAS, self._rng.gauss(0.0, 1.0)))
            bps = Decimal(repr(draw * sigma)).quantize(BPS_QUANTUM)
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
