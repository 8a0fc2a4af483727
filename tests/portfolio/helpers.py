"""Helpers shared by the portfolio tests."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta


def price(
    symbol: str,
    value: str,
    *,
    change: str | None = None,
    change_pct: str | None = None,
    age: float = 1.0,
    source: str = "binance",
    now: datetime | None = None,
) -> dict:
    """A price dict in the ``price_cache`` format."""
    now = now or datetime.now(UTC)
    return {
        "symbol": symbol,
        "price": value,
        "timestamp": (now - timedelta(seconds=age)).isoformat(),
        "volume_24h": "1000",
        "change_24h": change,
        "change_percent_24h": change_pct,
        "source": source,
    }
