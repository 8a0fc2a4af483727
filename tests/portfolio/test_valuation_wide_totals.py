"""Totals and unrealized P/L are exact (issue 19, item 9): they were summed in
Decimal's default 28-digit context while each holding's value was exact."""

from __future__ import annotations

import decimal
from datetime import UTC, datetime
from decimal import Decimal

from portfolio.valuation import portfolio_summary

NOW = datetime(2026, 1, 2, tzinfo=UTC)
WIDE = decimal.Context(prec=200)


def _price(value: str) -> dict:
    return {"price": value, "timestamp": NOW.isoformat(), "source": "binance"}


def test_totals_and_pl_are_exact_past_28_digits():
    holdings = [
        {
            "symbol": "BTC",
            "amount": "123456789012.123456789012345678",
            "cost_basis": "0.000000000000000001",
        },
        {"symbol": "ETH", "amount": "0.000000000000000001", "cost_basis": "1"},
    ]
    prices = {
        "BTC": _price("98765.123456789012345678"),
        "ETH": _price("3000.000000000000000007"),
    }
    summary = portfolio_summary(
        holdings=holdings, prices=prices, now=NOW, stale_after=60
    )
    btc = WIDE.multiply(Decimal(holdings[0]["amount"]), Decimal(prices["BTC"]["price"]))
    eth = WIDE.multiply(Decimal(holdings[1]["amount"]), Decimal(prices["ETH"]["price"]))
    total = WIDE.add(btc, eth)
    pl = WIDE.subtract(total, WIDE.add(Decimal("0.000000000000000001"), Decimal("1")))
    totals = summary["totals"]
    assert Decimal(totals["value"]) == total, (totals["value"], total)
    assert Decimal(totals["unrealized_pl"]) == pl
    rows = {r["symbol"]: r for r in summary["holdings"]}
    assert Decimal(rows["BTC"]["unrealized_pl"]) == WIDE.subtract(
        btc, Decimal("0.000000000000000001")
    )
