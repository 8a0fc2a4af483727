"""GET /api/portfolio/history/ and /api/prices/{symbol}/history/ from a year of
ledger entries and candles served by a fake exchange on 127.0.0.1."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal as D

import pytest

from portfolio.ledger import services as ledger
from portfolio.market.models import Candle
from portfolio.market.reports import NO_MARKET_DATA
from portfolio.market.services import set_default_client
from tests.candles_fake import serve

pytestmark = [pytest.mark.django_db, pytest.mark.timeout(120)]

TODAY = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
DAY0 = TODAY - timedelta(days=364)


@pytest.fixture(autouse=True)
def today():
    """The day is fixed when each test starts, not at import: a suite that
    crosses midnight UTC was off by one day here."""
    global TODAY, DAY0
    TODAY = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    DAY0 = TODAY - timedelta(days=364)


def price(symbol: str, interval: str, t: datetime) -> D | None:
    """BTC closes at 20000 + days since DAY0, ETH at 1000 + half of that."""
    days = D((t - DAY0) // timedelta(hours=1)) / 24
    if t < DAY0:
        return None
    return {"BTC": 20000 + days, "ETH": 1000 + days / 2}.get(symbol)


def on(day: int) -> datetime:
    return DAY0 + timedelta(days=day, hours=10)


def year_ledger(user) -> None:
    add = ledger.transaction_create
    add(owner=user, kind="buy", symbol="BTC", amount=D("1"), executed_at=on(0),
        price=D("20000"), fee=D("10"))  # fmt: skip
    for m in range(1, 12):
        add(owner=user, kind="buy", symbol="ETH", amount=D("1"),
            executed_at=on(30 * m), price=1000 + D(15 * m), fee=D("1"))  # fmt: skip
    add(owner=user, kind="sell", symbol="BTC", amount=D("0.25"), executed_at=on(100),
        price=D("20100"), fee=D("5"))  # fmt: skip
    add(owner=user, kind="transfer_in", symbol="BTC", amount=D("0.5"),
        executed_at=on(200))  # fmt: skip
    add(owner=user, kind="transfer_out", symbol="ETH", amount=D("2"),
        executed_at=on(300))  # fmt: skip


@pytest.fixture
def exchange(settings):
    with serve(price) as (url, fake):
        settings.CANDLES_FETCH = True
        settings.CANDLE_PROVIDERS = ["binance", "coinbase"]
        settings.CANDLE_URLS = {"binance": url, "coinbase": url}
        set_default_client(None)
        yield fake
    set_default_client(None)


def by_time(body) -> dict[datetime, dict]:
    return {datetime.fromisoformat(p["timestamp"]): p for p in body["points"]}


def test_a_year_by_hand(api, user, exchange):
    year_ledger(user)
    body = api.get("/api/portfolio/history/", {"range": "1y"}).json()
    assert body["basis"] == "ledger" and body["interval"] == "1d"
    assert body["market_data"] is True and body["note"] is None
    assert datetime.fromisoformat(body["start"]) == DAY0  # the first entry's day
    points = by_time(body)
    assert len(points) == 364  # DAY0 .. yesterday, closed days only
    first = points[DAY0 + timedelta(days=1)]
    assert (first["value"], first["net_invested"], first["performance"]) == (
        "20000", "20010", "-10"  # a buy is not a gain; its fee is a loss
    )  # fmt: skip
    assert first["source"] == "binance" and first["simulated"] is False
    day100 = points[DAY0 + timedelta(days=101)]
    assert (day100["value"], day100["net_invested"], day100["performance"]) == (
        "18225", "18083", "142"
    )  # fmt: skip
    last = points[TODAY]
    assert (last["value"], last["net_invested"], last["performance"]) == (
        "36087.25", "34791", "1296.25"
    )  # fmt: skip
    assert body["summary"]["performance"] == "1306.25"  # 1296.25 - (-10)
    assert body["summary"]["net_flows"] == "14781"
    # Stored: a second look asks the exchange nothing more.
    asked = len(exchange.requests)
    assert Candle.objects.filter(interval="1d", symbol="BTC").count() == 364
    again = api.get("/api/portfolio/history/", {"range": "all"}).json()
    assert len(exchange.requests) == asked
    assert by_time(again)[TODAY]["value"] == "36087.25"


def test_hourly_week(api, user, exchange):
    year_ledger(user)
    body = api.get("/api/portfolio/history/", {"range": "7d"}).json()
    assert body["interval"] == "1h" and len(body["points"]) == 168
    assert all(p["value"] is not None for p in body["points"])
    assert all(p["source"] == "binance" for p in body["points"])


def test_failover_source_is_labelled(api, user, settings, exchange):
    year_ledger(user)
    with serve(price) as (coinbase_url, coinbase):
        settings.CANDLE_URLS = {
            "binance": "http://127.0.0.1:9",
            "coinbase": coinbase_url,
        }
        set_default_client(None)
        body = api.get("/api/portfolio/history/", {"range": "30d"}).json()
    assert {p["source"] for p in body["points"]} == {"coinbase"}
    assert len(body["points"]) == 30 and coinbase.requests


def test_offline_says_no_market_data(api, user):
    year_ledger(user)
    body = api.get("/api/portfolio/history/", {"range": "30d"}).json()
    assert body["market_data"] is False and body["note"] == NO_MARKET_DATA
    assert len(body["points"]) == 30
    assert all(p["value"] is None and p["source"] is None for p in body["points"])
    assert body["points"][0]["missing"] == ["BTC", "ETH"]
    assert body["summary"] is None


def test_gaps_stay_gaps(api, user, exchange):
    year_ledger(user)
    api.get("/api/portfolio/history/", {"range": "30d"})
    gap = TODAY - timedelta(days=5)
    Candle.objects.filter(symbol="ETH", interval="1d", open_time=gap).delete()
    exchange.fail = True
    body = api.get("/api/portfolio/history/", {"range": "30d"}).json()
    point = by_time(body)[gap + timedelta(days=1)]
    assert point["value"] is None and point["missing"] == ["ETH"]
    assert body["market_data"] is True and "gaps" in body["note"]


def test_no_transactions_keeps_snapshots(api, user):
    body = api.get("/api/portfolio/history/", {"range": "all"}).json()
    assert body["basis"] == "snapshots" and body["points"] == []


def test_price_history(api, user, exchange):
    year_ledger(user)
    body = api.get("/api/prices/ETH/history/", {"range": "30d"}).json()
    assert body["symbol"] == "ETH" and body["market_data"] is True
    assert len(body["points"]) == 30
    last = body["points"][-1]
    assert datetime.fromisoformat(last["timestamp"]) == TODAY
    assert (last["close"], last["source"]) == ("1181.5", "binance")
    everything = api.get("/api/prices/BTC/history/", {"range": "all"}).json()
    assert len(everything["points"]) == 364


def test_price_history_offline(api, user):
    body = api.get("/api/prices/SOL/history/", {"range": "7d"}).json()
    assert body["market_data"] is False and body["note"] == NO_MARKET_DATA
    assert all(p["close"] is None for p in body["points"])


@pytest.mark.parametrize(
    "path,query,field",
    [
        ("/api/prices/btc-usd/history/", {}, "symbol"),
        ("/api/prices/BTC/history/", {"range": "2y"}, "range"),
        ("/api/portfolio/history/", {"range": "ALL"}, "range"),
    ],
)
def test_bad_input_is_400(api, path, query, field):
    resp = api.get(path, query)
    assert resp.status_code == 400 and field in resp.json()
