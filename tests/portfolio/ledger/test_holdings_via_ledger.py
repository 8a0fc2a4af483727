"""Holdings are a projection of the ledger; the legacy API writes transactions."""

from __future__ import annotations

import importlib
from decimal import Decimal

import pytest
from django.apps import apps

from portfolio.models import Holding, Transaction

pytestmark = pytest.mark.django_db

URL = "/api/holdings/"


def test_post_writes_an_opening_buy_with_exact_cost(api, user):
    resp = api.post(
        URL, {"symbol": "BTC", "amount": "3", "cost_basis": "1000"}, format="json"
    )
    assert resp.status_code == 201, resp.content
    assert resp.json()["cost_basis"] == "1000"
    (txn,) = Transaction.objects.filter(owner=user)
    assert txn.kind == "buy" and txn.amount == 3
    assert txn.total == Decimal("1000")
    # 1000/3 rounded to 18 places; the lot's cost is the exact total.
    assert txn.price == Decimal("333.333333333333333333")


def test_post_without_cost_is_an_unknown_cost_transfer_in(api, user):
    api.post(URL, {"symbol": "ETH", "amount": "2"}, format="json")
    (txn,) = Transaction.objects.filter(owner=user)
    assert (txn.kind, txn.price, txn.total) == ("transfer_in", None, None)
    row = api.get("/api/portfolio/").json()["holdings"][0]
    assert row["cost_basis"] is None and row["unknown_cost_amount"] == "2"


def test_patch_and_delete_write_transfers_without_realizing(api, user):
    pk = api.post(
        URL, {"symbol": "BTC", "amount": "1", "cost_basis": "100"}, format="json"
    ).json()["id"]
    resp = api.patch(f"{URL}{pk}/", {"amount": "2"}, format="json")
    assert resp.json() == {**resp.json(), "amount": "2", "cost_basis": "100"}
    assert api.delete(f"{URL}{pk}/").status_code == 204
    kinds = list(
        Transaction.objects.filter(owner=user)
        .order_by("id")
        .values_list("kind", flat=True)
    )
    assert kinds == ["buy", "transfer_out", "transfer_in", "transfer_out"]
    assert not Holding.objects.filter(owner=user).exists()
    totals = api.get("/api/portfolio/").json()["totals"]
    assert totals["realized_pl"] == "0"


def test_migration_turns_each_holding_into_one_opening_entry(user, other_user):
    Holding.objects.create(
        owner=user, symbol="BTC", amount=Decimal("0.3"), cost_basis=Decimal("100")
    )
    Holding.objects.create(owner=other_user, symbol="ETH", amount=Decimal("2"))
    migration = importlib.import_module("portfolio.migrations.0004_ledger_transactions")
    migration.forwards(apps, None)
    btc = Transaction.objects.get(owner=user)
    assert (btc.kind, btc.symbol, btc.amount) == ("buy", "BTC", Decimal("0.3"))
    assert btc.price == Decimal("333.333333333333333333")
    assert btc.total == Decimal("100")
    eth = Transaction.objects.get(owner=other_user)
    assert (eth.kind, eth.price, eth.total) == ("transfer_in", None, None)
    migration.backwards(apps, None)
    assert not Transaction.objects.exists()
