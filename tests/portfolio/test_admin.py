"""The admin loads every model's pages for a superuser."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.urls import reverse

from portfolio.models import Alert, AlertKind, AlertRule, Holding, PortfolioSnapshot

pytestmark = pytest.mark.django_db


@pytest.fixture
def populated(admin_user):
    rule = AlertRule.objects.create(
        owner=admin_user,
        kind=AlertKind.PRICE_ABOVE,
        symbol="BTC",
        threshold=Decimal("1"),
    )
    Holding.objects.create(owner=admin_user, symbol="BTC", amount=Decimal("0.5"))
    Alert.objects.create(
        rule=rule,
        owner=admin_user,
        kind=rule.kind,
        symbol="BTC",
        threshold=Decimal("1"),
        message="BTC above 1",
        observed_value=Decimal("2"),
        triggered_at="2026-01-01T00:00Z",
    )
    PortfolioSnapshot.objects.create(
        owner=admin_user, total_value=Decimal("3"), taken_at="2026-01-01T00:00Z"
    )


@pytest.mark.parametrize("model", [Holding, AlertRule, Alert, PortfolioSnapshot])
def test_admin_pages_load(admin_client, populated, model):
    opts = model._meta
    changelist = reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist")
    response = admin_client.get(
        changelist, {"q": "BTC"} if model is not PortfolioSnapshot else {}
    )
    assert response.status_code == 200
    obj = model.objects.first()
    change = reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[obj.pk])
    assert admin_client.get(change).status_code == 200


def test_admin_requires_staff(client, user):
    client.force_login(user)
    response = client.get("/admin/")
    assert response.status_code == 302
    assert "/admin/login/" in response["Location"]


def test_home_page_requires_login(client):
    response = client.get("/")
    assert response.status_code == 302
    assert response["Location"] == "/login/?next=/"
