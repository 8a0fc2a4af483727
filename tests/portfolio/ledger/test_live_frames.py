"""The live worker's portfolio_update summaries carry the ledger's figures."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from portfolio import selectors
from portfolio.ledger import services
from portfolio.live.portfolios import PortfolioJob

pytestmark = pytest.mark.django_db


class Bus:
    def __init__(self) -> None:
        self.published: list[dict] = []

    async def publish_portfolio_update(self, data, source):
        self.published.append(data)


def when(day: int) -> datetime:
    return datetime(2024, 1, day, tzinfo=UTC)


def test_portfolio_update_carries_average_cost_and_realized_pl(user):
    def ledger():
        for kind, amount, day, price, symbol in [
            ("buy", "1", 1, "100", "BTC"),
            ("buy", "3", 2, "200", "BTC"),
            ("sell", "2", 3, "300", "BTC"),
            ("buy", "1", 1, "10", "ETH"),
            ("sell", "1", 2, "12", "ETH"),
        ]:
            services.transaction_create(
                owner=user,
                kind=kind,
                symbol=symbol,
                amount=Decimal(amount),
                price=Decimal(price),
                executed_at=when(day),
            )
        return selectors.positions_by_owner()

    positions = ledger()
    assert positions[user.pk]["ETH"] == (Decimal(0), None, Decimal(2), Decimal(0))
    bus = Bus()
    job = PortfolioJob(bus, interval=0.01, stale_after=10, on_total=lambda *a: None)
    held = job.set_positions(positions)
    assert held == {"BTC"}  # a closed position needs no price stream
    job.monitors[user.pk].store_price(
        {"symbol": "BTC", "price": "250", "source": "binance"}
    )
    job._dirty.add(user.pk)
    asyncio.run(asyncio.wait_for(job.publish_dirty(), 5))
    (frame,) = bus.published
    (row,) = frame["holdings"]
    # FIFO: 100 + 200 sold for 600 → 300 realized on BTC; 2 on ETH
    assert row["amount"] == "2" and row["cost_basis"] == "400"
    assert row["average_cost"] == "200" and row["realized_pl"] == "300"
    assert row["unrealized_pl"] == "100"
    assert frame["totals"]["realized_pl"] == "302"
