"""alert-rules/ CRUD and alerts/ list + acknowledge, per-user isolation."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from portfolio import services
from portfolio.models import Alert, AlertKind, AlertRule

pytestmark = pytest.mark.django_db

RULES = "/api/alert-rules/"
ALERTS = "/api/alerts/"
T0 = datetime(2026, 1, 2, tzinfo=UTC)


def make_alert(owner, minutes=0, acknowledged=False, rule=None):
    return Alert.objects.create(
        owner=owner,
        rule=rule,
        kind=AlertKind.PRICE_ABOVE,
        symbol="BTC",
        threshold=Decimal("65000"),
        observed_value=Decimal("65010.12"),
        message="BTC price 65,010.12 USD rose above 65,000 USD",
        triggered_at=T0 + timedelta(minutes=minutes),
        acknowledged_at=T0 if acknowledged else None,
    )


# -- alert rules ----------------------------------------------------------------
def test_rule_crud(api):
    body = {"kind": "price_above", "symbol": "BTC", "threshold": "65000.50"}
    resp = api.post(RULES, body, format="json")
    assert resp.status_code == 201, resp.content
    rule = resp.json()
    assert rule["threshold"] == "65000.5"
    assert rule["cooldown_seconds"] == 300 and rule["enabled"] is True
    assert rule["trigger_count"] == 0 and rule["last_condition_met"] is None
    pk = rule["id"]
    assert api.get(RULES).json()["results"][0]["id"] == pk
    resp = api.patch(f"{RULES}{pk}/", {"one_shot": True}, format="json")
    assert resp.status_code == 200 and resp.json()["one_shot"] is True
    assert api.get(f"{RULES}{pk}/").json()["one_shot"] is True
    assert api.delete(f"{RULES}{pk}/").status_code == 204
    assert not AlertRule.objects.filter(pk=pk).exists()


def test_portfolio_rule_without_symbol(api):
    body = {"kind": "portfolio_below", "threshold": "1000"}
    resp = api.post(RULES, body, format="json")
    assert resp.status_code == 201 and resp.json()["symbol"] == ""


@pytest.mark.parametrize(
    "body,field,fragment",
    [
        ({"kind": "price_above", "threshold": "1"}, "symbol", "symbol is required"),
        ({"kind": "price_above", "symbol": "", "threshold": "1"}, "symbol", "required"),
        (
            {"kind": "portfolio_above", "symbol": "BTC", "threshold": "1"},
            "symbol",
            "leave the symbol empty",
        ),
        (
            {"kind": "price_above", "symbol": "btc", "threshold": "1"},
            "symbol",
            "upper-case",
        ),
        ({"kind": "nope", "symbol": "BTC", "threshold": "1"}, "kind", "valid choice"),
        (
            {"kind": "price_above", "symbol": "BTC", "threshold": "x"},
            "threshold",
            "number",
        ),
        (
            {"kind": "price_above", "symbol": "BTC", "threshold": "-1"},
            "threshold",
            "negative",
        ),
        (
            {"kind": "price_above", "symbol": "BTC", "threshold": "1" * 1000},
            "threshold",
            "below 10^16",
        ),
        (
            {"kind": "price_above", "symbol": "BTC", "threshold": "2000000000000000"},
            "threshold",
            "10^15",
        ),
        (
            {
                "kind": "price_above",
                "symbol": "BTC",
                "threshold": "1",
                "cooldown_seconds": -1,
            },
            "cooldown_seconds",
            "",
        ),
    ],
)
def test_rule_validation_errors(api, body, field, fragment):
    resp = api.post(RULES, body, format="json")
    assert resp.status_code == 400, resp.content
    assert fragment in " ".join(resp.json()[field])


def test_change_rule_allows_negative_threshold(api):
    body = {"kind": "change_pct_below", "symbol": "ETH", "threshold": "-5"}
    assert api.post(RULES, body, format="json").status_code == 201


def test_rules_of_another_user_are_404(api, other_api, other_user):
    rule = services.alert_rule_create(
        owner=other_user, kind="price_above", symbol="BTC", threshold=Decimal("1")
    )
    url = f"{RULES}{rule.pk}/"
    assert api.get(RULES).json()["results"] == []
    assert api.get(url).status_code == 404
    assert api.patch(url, {"enabled": False}, format="json").status_code == 404
    assert api.delete(url).status_code == 404
    rule.refresh_from_db()
    assert rule.enabled is True
    assert other_api.get(url).status_code == 200


def test_rules_anonymous_refused(anon):
    assert anon.get(RULES).status_code in (401, 403)


# -- alerts ---------------------------------------------------------------------
def test_alert_list_order_and_filter(api, user):
    old_unacked = make_alert(user, minutes=1)
    new_acked = make_alert(user, minutes=5, acknowledged=True)
    new_unacked = make_alert(user, minutes=3)
    ids = [a["id"] for a in api.get(ALERTS).json()["results"]]
    assert ids == [new_unacked.pk, old_unacked.pk, new_acked.pk]
    only_open = api.get(ALERTS, {"acknowledged": "false"}).json()
    assert [a["id"] for a in only_open["results"]] == [new_unacked.pk, old_unacked.pk]
    only_acked = api.get(ALERTS, {"acknowledged": "true"}).json()
    assert [a["id"] for a in only_acked["results"]] == [new_acked.pk]
    row = only_acked["results"][0]
    assert row["observed_value"] == "65010.12" and row["acknowledged"] is True


def test_alert_list_bad_filter_is_400(api):
    assert api.get(ALERTS, {"acknowledged": "maybe"}).status_code == 400


def test_alert_list_is_paginated(api, user):
    for minute in range(55):
        make_alert(user, minutes=minute)
    first = api.get(ALERTS).json()
    assert first["count"] == 55 and len(first["results"]) == 50
    assert len(api.get(first["next"]).json()["results"]) == 5


def test_acknowledge_one_is_idempotent(api, user):
    alert = make_alert(user)
    url = f"{ALERTS}{alert.pk}/acknowledge/"
    first = api.post(url)
    assert first.status_code == 200 and first.json()["acknowledged"] is True
    second = api.post(url)
    assert second.status_code == 200
    assert second.json()["acknowledged_at"] == first.json()["acknowledged_at"]


def test_acknowledge_many(api, user, other_user):
    mine = [make_alert(user, minutes=i) for i in range(3)]
    theirs = make_alert(other_user)
    ids = [a.pk for a in mine[:2]] + [theirs.pk]
    resp = api.post(f"{ALERTS}acknowledge/", {"ids": ids}, format="json")
    assert resp.status_code == 200 and resp.json() == {"acknowledged": 2}
    resp = api.post(f"{ALERTS}acknowledge/", {"ids": ids}, format="json")
    assert resp.json() == {"acknowledged": 0}
    theirs.refresh_from_db()
    assert theirs.acknowledged_at is None
    mine[2].refresh_from_db()
    assert mine[2].acknowledged_at is None


@pytest.mark.parametrize("body", [{}, {"ids": []}, {"ids": ["x"]}, {"ids": "1"}])
def test_acknowledge_many_validation(api, body):
    resp = api.post(f"{ALERTS}acknowledge/", body, format="json")
    assert resp.status_code == 400 and "ids" in resp.json()


def test_alerts_of_another_user_are_404(api, other_user):
    alert = make_alert(other_user)
    assert api.get(ALERTS).json()["results"] == []
    assert api.get(f"{ALERTS}{alert.pk}/").status_code == 404
    assert api.post(f"{ALERTS}{alert.pk}/acknowledge/").status_code == 404
    alert.refresh_from_db()
    assert alert.acknowledged_at is None


def test_alerts_cannot_be_written(api, user):
    alert = make_alert(user)
    assert api.delete(f"{ALERTS}{alert.pk}/").status_code == 405
    assert api.post(ALERTS, {}, format="json").status_code == 405


def test_alerts_anonymous_refused(anon, user):
    alert = make_alert(user)
    assert anon.get(ALERTS).status_code in (401, 403)
    assert anon.post(f"{ALERTS}{alert.pk}/acknowledge/").status_code in (401, 403)
    assert anon.post(f"{ALERTS}acknowledge/", {"ids": [alert.pk]}).status_code in (
        401,
        403,
    )
