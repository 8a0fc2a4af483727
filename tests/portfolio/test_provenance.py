"""Provenance end to end: totals, alerts, snapshots and history say their source."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from portfolio import services
from portfolio.alerts import AlertEngine
from portfolio.live.snapshots import SnapshotJob
from portfolio.models import Alert, AlertKind, PortfolioSnapshot
from portfolio.valuation import Position, portfolio_summary
from tests.portfolio.helpers import price

NOW = datetime(2026, 1, 2, 12, 0, 0, tzinfo=UTC)


def summary(*prices: dict) -> dict:
    holdings = [Position("BTC", Decimal("1")), Position("ETH", Decimal("2"))]
    return portfolio_summary(
        holdings=holdings,
        prices={p["symbol"]: p for p in prices},
        now=NOW,
        stale_after=10,
    )


def test_totals_of_market_prices_are_not_simulated_and_count_sources():
    body = summary(
        {**price("BTC", "60000", now=NOW), "quote": "USDT"},
        price("ETH", "3000", source="coinbase", now=NOW),
    )
    assert body["totals"]["simulated"] is False
    assert body["totals"]["sources"] == {"binance": 1, "coinbase": 1}
    rows = {r["symbol"]: r for r in body["holdings"]}
    assert rows["BTC"]["quote"] == "USDT" and rows["ETH"]["quote"] == "USD"


def test_one_simulated_price_marks_the_whole_total():
    body = summary(
        price("BTC", "60000", now=NOW), price("ETH", "3000", source="mock", now=NOW)
    )
    assert body["totals"]["simulated"] is True
    assert body["totals"]["sources"] == {"binance": 1, "mock": 1}


def test_unpriced_holdings_are_no_source():
    body = summary(price("BTC", "60000", now=NOW))
    assert body["totals"]["sources"] == {"binance": 1}
    assert body["holdings"][1]["quote"] is None


@pytest.mark.django_db(transaction=True)
def test_price_alert_from_a_simulated_price_says_so(user):
    services.alert_rule_create(
        owner=user, kind=AlertKind.PRICE_ABOVE, symbol="BTC", threshold=Decimal("1")
    )
    (alert,) = AlertEngine().evaluate_price(price("BTC", "2", source="mock"))
    alert.refresh_from_db()
    assert alert.source == "mock" and alert.simulated is True
    assert alert.message == (
        "BTC price 2 USD rose above 1 USD (SIMULATED price, not market data)"
    )


@pytest.mark.django_db(transaction=True)
def test_price_alert_from_binance_names_usdt(user):
    services.alert_rule_create(
        owner=user, kind=AlertKind.PRICE_ABOVE, symbol="BTC", threshold=Decimal("1")
    )
    (alert,) = AlertEngine().evaluate_price({**price("BTC", "2"), "quote": "USDT"})
    alert.refresh_from_db()
    assert alert.source == "binance" and alert.simulated is False
    assert alert.message == "BTC price 2 USDT rose above 1 USDT"


@pytest.mark.django_db(transaction=True)
def test_portfolio_alert_keeps_the_totals_provenance(user):
    services.alert_rule_create(
        owner=user, kind=AlertKind.PORTFOLIO_ABOVE, threshold=Decimal("10")
    )
    engine = AlertEngine()
    (alert,) = engine.evaluate_portfolio(
        user.pk, Decimal("11"), simulated=True, sources={"binance": 1, "mock": 1}
    )
    alert.refresh_from_db()
    assert alert.simulated is True and alert.source == ""
    assert alert.message.endswith("(SIMULATED price, not market data)")


@pytest.mark.django_db
def test_alert_api_returns_source_and_simulated(api, user):
    Alert.objects.create(
        owner=user,
        kind=AlertKind.PRICE_ABOVE,
        symbol="BTC",
        threshold=Decimal("1"),
        observed_value=Decimal("2"),
        message="m",
        triggered_at=timezone.now(),
        source="mock",
        simulated=True,
    )
    (row,) = api.get("/api/alerts/").json()["results"]
    assert row["source"] == "mock" and row["simulated"] is True


@pytest.mark.django_db(transaction=True)
async def test_snapshot_job_stores_simulated(user):
    job = SnapshotJob(lambda: {user.pk: (Decimal("5"), True)}, interval=60)
    assert await job.take() == 1
    snapshot = await PortfolioSnapshot.objects.aget(owner=user)
    assert snapshot.simulated is True and snapshot.total_value == Decimal("5")


@pytest.mark.django_db
def test_history_points_carry_simulated(api, user):
    now = timezone.now()
    for minutes, simulated in ((5, True), (3, False)):
        PortfolioSnapshot.objects.create(
            owner=user,
            total_value=Decimal("100"),
            taken_at=now - timedelta(minutes=minutes),
            simulated=simulated,
        )
    points = api.get("/api/portfolio/history/?range=1h").json()["points"]
    assert [p["simulated"] for p in points] == [True, False]


@pytest.mark.django_db
def test_portfolio_api_totals_carry_provenance(api, user, seed_prices):
    services.holding_create(owner=user, symbol="BTC", amount=Decimal("1"))
    seed_prices(price("BTC", "60000", source="mock"))
    totals = api.get("/api/portfolio/").json()["totals"]
    assert totals["simulated"] is True and totals["sources"] == {"mock": 1}
