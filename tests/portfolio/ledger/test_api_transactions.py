"""/api/transactions/ and the ledger figures of /api/portfolio/, through the API."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.django_db

URL = "/api/transactions/"


def add(api, kind, amount, when, price=None, fee=None, symbol="BTC", **extra):
    body = {"kind": kind, "symbol": symbol, "amount": amount, "executed_at": when}
    if price is not None:
        body["price"] = price
    if fee is not None:
        body["fee"] = fee
    resp = api.post(URL, {**body, **extra}, format="json")
    return resp


def test_hand_checked_sequence_through_the_api(api, seed_prices):
    assert add(api, "buy", "1", "2024-01-01T00:00:00Z", "100", "1").status_code == 201
    assert add(api, "buy", "2", "2024-02-01T00:00:00Z", "200", "2").status_code == 201
    sell = add(api, "sell", "1.5", "2024-03-01T00:00:00Z", "300", "3")
    assert sell.status_code == 201, sell.content
    seed_prices({"symbol": "BTC", "price": "400", "source": "binance"})
    row = api.get("/api/portfolio/").json()["holdings"][0]
    assert row["amount"] == "1.5"
    assert row["cost_basis"] == "301.5"
    assert row["average_cost"] == "201"
    assert row["realized_pl"] == "245.5"
    assert row["unrealized_pl"] == "298.5"  # 600 - 301.5
    # A backdated buy changes which lots the sell consumed.
    assert add(api, "buy", "1", "2023-12-01T00:00:00Z", "50").status_code == 201
    body = api.get("/api/portfolio/").json()
    row = body["holdings"][0]
    assert (row["amount"], row["cost_basis"], row["realized_pl"]) == (
        "2.5",
        "452.5",
        "346.5",
    )
    assert row["unrealized_pl"] == "547.5"  # 1000 - 452.5
    assert body["totals"]["realized_pl"] == "346.5"
    # Average cost as the user's setting.
    resp = api.patch("/api/ledger/settings/", {"cost_method": "average"}, format="json")
    assert resp.json() == {"cost_method": "average"}
    row = api.get("/api/portfolio/").json()["holdings"][0]
    # pool 4 @ 553; 1.5 sold takes 207.375
    assert (row["cost_basis"], row["realized_pl"]) == ("345.625", "239.625")


def test_closed_position_keeps_its_realized_pl_in_the_totals(api):
    add(api, "buy", "1", "2024-01-01T00:00:00Z", "10", symbol="ETH")
    add(api, "sell", "1", "2024-01-02T00:00:00Z", "15", "0.5", symbol="ETH")
    body = api.get("/api/portfolio/").json()
    assert body["holdings"] == []
    assert body["totals"]["realized_pl"] == "4.5"
    assert api.get("/api/holdings/").json()["results"] == []


def test_sell_beyond_holdings_at_its_date_is_400_saying_how_much(api):
    add(api, "buy", "1", "2024-02-01T00:00:00Z", "100")
    resp = add(api, "sell", "0.5", "2024-01-15T00:00:00Z", "100")
    assert resp.status_code == 400
    assert "You held 0 BTC on 2024-01-15" in " ".join(resp.json()["amount"])
    resp = add(api, "transfer_out", "1.25", "2024-03-01T00:00:00Z")
    assert "You held 1 BTC" in " ".join(resp.json()["amount"])
    assert len(api.get(URL).json()["results"]) == 1


def test_deleting_a_buy_a_later_sell_needs_is_refused(api):
    buy = add(api, "buy", "1", "2024-01-01T00:00:00Z", "100").json()
    add(api, "sell", "1", "2024-02-01T00:00:00Z", "100")
    resp = api.delete(f"{URL}{buy['id']}/")
    assert resp.status_code == 400 and "You held 0 BTC" in str(resp.json())
    assert len(api.get(URL).json()["results"]) == 2


def test_edit_and_filters(api):
    pk = add(api, "buy", "1", "2024-01-01T00:00:00Z", "100").json()["id"]
    add(api, "transfer_in", "2", "2024-05-01T00:00:00Z", symbol="ETH")
    resp = api.patch(f"{URL}{pk}/", {"price": "120.5", "note": "fix"}, format="json")
    assert resp.status_code == 200 and resp.json()["price"] == "120.5"
    assert api.get("/api/holdings/").json()["results"][0]["cost_basis"] == "120.5"
    rows = lambda q: [r["symbol"] for r in api.get(URL + q).json()["results"]]  # noqa: E731
    assert rows("?symbol=ETH") == ["ETH"]
    assert rows("?kind=buy") == ["BTC"]
    assert rows("?since=2024-03-01T00:00:00Z") == ["ETH"]
    assert rows("?until=2024-03-01T00:00:00Z") == ["BTC"]
    assert api.get(URL + "?kind=gift").status_code == 400


def test_validation_errors_are_field_messages(api, other_api):
    resp = add(api, "buy", "1", "2024-01-01T00:00:00Z")
    assert resp.status_code == 400 and "needs a price" in str(resp.json()["price"])
    resp = add(api, "buy", "-1", "2024-01-01T00:00:00Z", "1", symbol="btc")
    assert {"amount", "symbol"} <= set(resp.json())
    pk = add(api, "buy", "1", "2024-01-01T00:00:00Z", "1").json()["id"]
    assert other_api.get(f"{URL}{pk}/").status_code == 404
    assert other_api.delete(f"{URL}{pk}/").status_code == 404


def test_transaction_quota_is_a_setting(api, settings):
    settings.LEDGER_MAX_TRANSACTIONS = 1
    assert add(api, "buy", "1", "2024-01-01T00:00:00Z", "1").status_code == 201
    resp = add(api, "buy", "1", "2024-01-02T00:00:00Z", "1")
    assert resp.status_code == 400 and "at most 1" in str(resp.json())
