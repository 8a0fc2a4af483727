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


def _page(admin_client, model, view: str, *args) -> str:
    opts = model._meta
    url = reverse(f"admin:{opts.app_label}_{opts.model_name}_{view}", args=args)
    response = admin_client.get(url)
    assert response.status_code == 200, url
    return response.content.decode()


def test_amounts_without_padding_zeros(admin_client, populated):
    holding = Holding.objects.get()
    for html in (
        _page(admin_client, Holding, "changelist"),
        _page(admin_client, Holding, "change", holding.pk),
        _page(admin_client, Alert, "changelist"),
        _page(admin_client, Alert, "change", Alert.objects.get().pk),
        _page(admin_client, PortfolioSnapshot, "changelist"),
    ):
        assert "000000000" not in html
    assert "0.5" in _page(admin_client, Holding, "change", holding.pk)


def test_records_are_read_only(admin_client, populated):
    html = _page(admin_client, Alert, "changelist")
    assert "Add alert" not in html
    alert = Alert.objects.get()
    change = _page(admin_client, Alert, "change", alert.pk)
    assert 'name="_save"' not in change
    add = reverse("admin:portfolio_alert_add")
    assert admin_client.get(add).status_code == 403
    assert "Add portfolio snapshot" not in _page(
        admin_client, PortfolioSnapshot, "changelist"
    )


def test_product_name_in_the_header(admin_client, populated):
    html = admin_client.get("/admin/").content.decode()
    assert "Crypto Portfolio Analyzer" in html
    assert "Django administration" not in html
    assert "css/admin.css" in html


def test_holdings_are_view_only_as_the_ledger_derives_them(admin_client, populated):
    """An edit here would be overwritten by the next ledger sync."""
    holding = Holding.objects.get()
    assert "Add holding" not in _page(admin_client, Holding, "changelist")
    assert 'name="_save"' not in _page(admin_client, Holding, "change", holding.pk)
    url = reverse("admin:portfolio_holding_change", args=[holding.pk])
    admin_client.post(url, {"owner": holding.owner_id, "symbol": "BTC", "amount": "9"})
    holding.refresh_from_db()
    assert holding.amount == Decimal("0.5")
    assert admin_client.get(reverse("admin:portfolio_holding_add")).status_code == 403
