"""PortfolioMonitor fed through on_price (start_monitoring needs the live feeds)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from portfolio.monitor import PortfolioMonitor
from tests.portfolio.helpers import price

NOW = datetime(2026, 1, 2, 12, 0, 0, tzinfo=UTC)


@pytest.fixture
def monitor():
    return PortfolioMonitor(stale_after=10, clock=lambda: NOW)


def test_value_is_exact_and_excludes_unpriced(monitor):
    monitor.add_holding("BTC", Decimal("0.1"))
    monitor.add_holding("ETH", Decimal("0.2"))
    monitor.on_price(price("BTC", "0.1", now=NOW))
    assert monitor.get_current_value() == Decimal("0.01")
    summary = monitor.get_holdings_summary()
    assert summary["unpriced"] == ["ETH"]
    monitor.on_price(price("ETH", "0.2", now=NOW))
    assert monitor.get_current_value() == Decimal("0.05")


def test_update_remove_and_cost_basis(monitor):
    monitor.add_holding("BTC", Decimal("1"))
    monitor.on_price(price("BTC", "100", now=NOW))
    monitor.update_holding("BTC", Decimal("2.5"))
    assert monitor.get_current_value() == Decimal("250")
    monitor.set_cost_basis("BTC", Decimal("200"))
    row = monitor.get_holdings_summary()["holdings"][0]
    assert row["unrealized_pl"] == "50"
    assert row["unrealized_pl_percent"] == "25.0000"
    monitor.remove_holding("BTC")
    assert monitor.get_current_value() == Decimal("0")
    assert monitor.get_holdings_summary()["holdings"] == []


def test_invalid_holdings_rejected(monitor):
    with pytest.raises(TypeError):
        monitor.add_holding("BTC", 0.1)
    with pytest.raises(ValueError):
        monitor.add_holding("BTC", Decimal("0"))
    monitor.add_holding("BTC", Decimal("1"))
    with pytest.raises(ValueError):
        monitor.add_holding("BTC", Decimal("1"))
    with pytest.raises(KeyError):
        monitor.update_holding("ETH", Decimal("1"))


def test_handlers_called_only_when_value_changes(monitor):
    calls = []
    monitor.add_value_change_handler(calls.append)
    monitor.add_holding("BTC", Decimal("1"))
    calls.clear()
    monitor.on_price(price("BTC", "100", now=NOW))
    monitor.on_price(price("BTC", "100", now=NOW))  # same price: no call
    monitor.on_price(price("ETH", "5", now=NOW))  # not held: no call
    monitor.on_price(price("BTC", "101", now=NOW))
    assert [c["totals"]["value"] for c in calls] == ["100", "101"]


def test_handler_errors_do_not_break_others(monitor):
    calls = []

    def broken(summary):
        raise RuntimeError("boom")

    monitor.add_value_change_handler(broken)
    monitor.add_value_change_handler(calls.append)
    monitor.add_holding("BTC", Decimal("1"))
    monitor.on_price(price("BTC", "7", now=NOW))
    assert calls[-1]["totals"]["value"] == "7"


async def test_async_handler_is_scheduled(monitor):
    seen = asyncio.Event()

    async def handler(summary):
        seen.set()

    monitor.add_value_change_handler(handler)
    monitor.add_holding("BTC", Decimal("1"))
    await asyncio.wait_for(seen.wait(), 1)


def test_set_holdings_replaces_all(monitor):
    monitor.add_holding("XRP", Decimal("1"))
    monitor.set_holdings({"BTC": (Decimal("1"), Decimal("10")), "ETH": ("2", None)})
    assert monitor.symbols == ["BTC", "ETH"]


def test_stale_flag(monitor):
    monitor.add_holding("BTC", Decimal("1"))
    monitor.on_price(price("BTC", "1", age=11, now=NOW))
    assert monitor.get_holdings_summary()["holdings"][0]["stale"] is True


async def test_stop_without_start_is_a_noop(monitor):
    await monitor.stop_monitoring()


async def test_start_monitoring_with_the_mock_feed_values_holdings():
    import asyncio

    from portfolio.monitor import PortfolioMonitor
    from streaming import PriceFeedProvider

    monitor = PortfolioMonitor(stale_after=5)
    monitor.add_holding("BTC", Decimal("2"))
    seen = []
    monitor.add_value_change_handler(seen.append)
    await monitor.start_monitoring(PriceFeedProvider.MOCK)
    try:
        for _ in range(60):
            if monitor.get_holdings_summary()["totals"]["priced_count"]:
                break
            await asyncio.sleep(0.05)
        summary = monitor.get_holdings_summary()
        (btc,) = summary["holdings"]
        assert btc["source"] == "mock"
        assert Decimal(btc["value"]) == Decimal(btc["price"]) * 2
        assert monitor.get_current_value() == Decimal(btc["value"])
        assert seen
    finally:
        await monitor.stop_monitoring()
