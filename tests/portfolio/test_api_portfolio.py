"""portfolio/, portfolio/history/, prices/ and streams/status/."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.cache import cache
from django.utils import timezone

from portfolio import services
from portfolio.models import PortfolioSnapshot
from tests.portfolio.helpers import price

pytestmark = pytest.mark.django_db


def hold(user, symbol, amount, cost=None):
    return services.holding_create(
        owner=user,
        symbol=symbol,
        amount=Decimal(amount),
        cost_basis=None if cost is None else Decimal(cost),
    )


# -- portfolio ------------------------------------------------------------------
def test_portfolio_summary_from_cached_prices(api, user, seed_prices):
    hold(user, "BTC", "0.5", cost="20000")
    hold(user, "ETH", "2")
    hold(user, "DOT", "1")  # listed, not priced yet
    seed_prices(
        price("BTC", "65010.12", change="1000"),
        price("ETH", "3000.10", change="-100", source="mock", age=60),
    )
    body = api.get("/api/portfolio/").json()
    rows = {r["symbol"]: r for r in body["holdings"]}
    assert rows["BTC"]["value"] == "32505.06"
    assert rows["BTC"]["unrealized_pl"] == "12505.06"
    assert rows["BTC"]["unrealized_pl_percent"] == "62.5253"
    assert rows["ETH"]["value"] == "6000.2"
    assert rows["ETH"]["stale"] is True and rows["ETH"]["simulated"] is True
    assert rows["DOT"]["value"] is None
    assert body["unpriced"] == ["DOT"]
    assert body["totals"]["value"] == "38505.26"
    assert body["totals"]["change_24h"] == "300"
    assert body["totals"]["unpriced_count"] == 1


def test_portfolio_empty_and_isolated(api, other_api, user, seed_prices):
    hold(user, "BTC", "1")
    seed_prices(price("BTC", "10"))
    assert api.get("/api/portfolio/").json()["totals"]["value"] == "10"
    other = other_api.get("/api/portfolio/").json()
    assert other["holdings"] == [] and other["totals"]["value"] == "0"


def test_portfolio_anonymous_refused(anon):
    assert anon.get("/api/portfolio/").status_code in (401, 403)


# -- history --------------------------------------------------------------------
def snapshot(user, value, ago):
    return PortfolioSnapshot.objects.create(
        owner=user, total_value=Decimal(value), taken_at=timezone.now() - ago
    )


def test_history_range_filters_and_orders(api, user, other_user):
    snapshot(user, "1.5", timedelta(minutes=30))
    snapshot(user, "2.25", timedelta(minutes=10))
    snapshot(user, "9", timedelta(hours=2))
    snapshot(other_user, "777", timedelta(minutes=5))
    body = api.get("/api/portfolio/history/", {"range": "1h"}).json()
    assert body["range"] == "1h"
    assert [p["value"] for p in body["points"]] == ["1.5", "2.25"]
    body = api.get("/api/portfolio/history/").json()  # default 24h
    assert body["range"] == "24h"
    assert [p["value"] for p in body["points"]] == ["9", "1.5", "2.25"]


def test_history_is_downsampled(api, user):
    now = timezone.now()
    PortfolioSnapshot.objects.bulk_create(
        PortfolioSnapshot(
            owner=user, total_value=Decimal(i), taken_at=now - timedelta(seconds=5 * i)
        )
        for i in range(1, 700)
    )
    points = api.get("/api/portfolio/history/", {"range": "1h"}).json()["points"]
    assert 250 <= len(points) <= 300
    stamps = [p["timestamp"] for p in points]
    assert stamps == sorted(stamps)


@pytest.mark.parametrize("bad", ["2h", "1H", "ALL", "30"])
def test_history_bad_range_is_400(api, bad):
    resp = api.get("/api/portfolio/history/", {"range": bad})
    assert resp.status_code == 400 and "range" in resp.json()


def test_history_anonymous_refused(anon):
    assert anon.get("/api/portfolio/history/").status_code in (401, 403)


# -- prices ---------------------------------------------------------------------
def test_prices_lists_only_watched_and_held(
    api, user, other_user, seed_prices, settings
):
    settings.WATCH_SYMBOLS = ["BTC", "ETH"]
    hold(user, "DOGE", "1")
    hold(other_user, "ADA", "1")  # unpriced and not mine: not listed
    seed_prices(
        price("BTC", "65010.120", change_pct="1.5", source="coinbase"),
        price("SOL", "150", source="mock", age=100),
    )
    rows = {r["symbol"]: r for r in api.get("/api/prices/").json()}
    # SOL is priced but nobody here watches or holds it; ADA is another's.
    assert set(rows) == {"BTC", "ETH", "DOGE"}
    assert rows["BTC"]["price"] == "65010.12"
    assert rows["BTC"]["change_percent_24h"] == "1.5000"
    assert rows["BTC"]["source"] == "coinbase" and rows["BTC"]["stale"] is False
    assert rows["ETH"]["price"] is None and rows["DOGE"]["price"] is None
    assert isinstance(rows["BTC"]["age_seconds"], str)


def test_prices_anonymous_refused(anon):
    assert anon.get("/api/prices/").status_code in (401, 403)


# -- streams status ---------------------------------------------------------------
def test_streams_status_staff_only(api, anon, admin_client):
    assert api.get("/api/streams/status/").status_code == 403
    assert anon.get("/api/streams/status/").status_code in (401, 403)
    body = admin_client.get("/api/streams/status/").json()
    assert body["available"] is False and "not running" in body["note"]
    cache.set("streams-status", {"providers": {"binance": {"status": "connected"}}})
    body = admin_client.get("/api/streams/status/").json()
    assert body["available"] is True and body["note"] is None
    assert body["status"]["providers"]["binance"]["status"] == "connected"
