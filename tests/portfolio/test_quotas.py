"""Per-user quotas (issue 19, item 5): one account with 20,000 alert rules froze
everyone's prices for 16.8 s. Past the quota a write is a 400 in plain words,
and nothing is stored."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.test import override_settings

from portfolio import services
from portfolio.models import AlertKind, AlertRule, Holding

pytestmark = pytest.mark.django_db

RULES = "/api/alert-rules/"
HOLDINGS = "/api/holdings/"


@override_settings(MAX_ALERT_RULES_PER_USER=3)
def test_alert_rule_quota(api, user, other_user):
    for n in range(3):
        services.alert_rule_create(
            owner=user,
            kind=AlertKind.PRICE_ABOVE,
            symbol="BTC",
            threshold=Decimal(n + 1),
        )
    body = {"kind": "price_above", "symbol": "BTC", "threshold": "65000"}
    resp = api.post(RULES, body, format="json")
    assert resp.status_code == 400, resp.content
    message = str(resp.json())
    assert "at most 3 alert rules" in message, message
    assert AlertRule.objects.filter(owner=user).count() == 3
    # Another account has its own quota.
    services.alert_rule_create(
        owner=other_user, kind=AlertKind.PRICE_ABOVE, symbol="BTC", threshold=1
    )


@override_settings(MAX_HOLDINGS_PER_USER=2)
def test_holding_quota(api, user):
    services.holding_create(owner=user, symbol="BTC", amount=Decimal("1"))
    services.holding_create(owner=user, symbol="ETH", amount=Decimal("1"))
    resp = api.post(HOLDINGS, {"symbol": "SOL", "amount": "1"}, format="json")
    assert resp.status_code == 400, resp.content
    assert "at most 2 holdings" in str(resp.json())
    assert Holding.objects.filter(owner=user).count() == 2
