"""Model validation and exact decimal storage on both databases."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from portfolio.models import Alert, AlertKind, AlertRule, Holding, PortfolioSnapshot

pytestmark = pytest.mark.django_db


def messages_for(exc: ValidationError, field: str) -> str:
    return " ".join(exc.message_dict[field])


@pytest.mark.parametrize("symbol", ["btc", "B", "BTC-USD", "A" * 16, "BT C", "", "ÉTH"])
def test_bad_symbol_rejected(user, symbol):
    holding = Holding(owner=user, symbol=symbol, amount=Decimal("1"))
    with pytest.raises(ValidationError) as exc:
        holding.full_clean()
    assert "symbol" in exc.value.message_dict


def test_symbol_message_is_clear(user):
    with pytest.raises(ValidationError) as exc:
        Holding(owner=user, symbol="btc", amount=Decimal("1")).full_clean()
    assert "upper-case" in messages_for(exc.value, "symbol")


@pytest.mark.parametrize("amount", [Decimal("0"), Decimal("-1"), Decimal("-0.000001")])
def test_non_positive_amount_rejected(user, amount):
    with pytest.raises(ValidationError) as exc:
        Holding(owner=user, symbol="BTC", amount=amount).full_clean()
    assert "greater than 0" in messages_for(exc.value, "amount")


def test_too_many_decimals_rejected(user):
    with pytest.raises(ValidationError) as exc:
        Holding(
            owner=user, symbol="BTC", amount=Decimal("0.1234567890123456789")
        ).full_clean()
    assert "decimal places" in messages_for(exc.value, "amount")


def test_absurd_amount_rejected(user):
    with pytest.raises(ValidationError) as exc:
        Holding(
            owner=user, symbol="BTC", amount=Decimal("1000000000000001")
        ).full_clean()
    assert "10^15" in messages_for(exc.value, "amount")


def test_duplicate_holding_rejected(user):
    Holding.objects.create(owner=user, symbol="BTC", amount=Decimal("1"))
    with pytest.raises(ValidationError) as exc:
        Holding(owner=user, symbol="BTC", amount=Decimal("2")).full_clean()
    assert "already hold" in " ".join(exc.value.messages)


def test_same_symbol_for_two_users_allowed(user, other_user):
    Holding.objects.create(owner=user, symbol="BTC", amount=Decimal("1"))
    Holding(owner=other_user, symbol="BTC", amount=Decimal("2")).full_clean()


@pytest.mark.parametrize(
    "value",
    [
        Decimal("0.123456789012345678"),
        Decimal("1000000000000000"),
        Decimal("999999999999999.123456789012345678"),
        Decimal("0.000000000000000001"),
    ],
)
def test_amount_round_trips_exactly(user, value):
    holding = Holding(owner=user, symbol="BTC", amount=value, cost_basis=value)
    holding.full_clean()
    holding.save()
    reloaded = Holding.objects.get(pk=holding.pk)
    assert reloaded.amount == value
    assert reloaded.cost_basis == value
    assert str(reloaded.amount.normalize()) == str(value.normalize())
    snap = PortfolioSnapshot.objects.create(
        owner=user, total_value=value, taken_at="2026-01-01T00:00Z"
    )
    assert PortfolioSnapshot.objects.get(pk=snap.pk).total_value == value


def test_price_rule_without_symbol_rejected(user):
    rule = AlertRule(owner=user, kind=AlertKind.PRICE_ABOVE, threshold=Decimal("100"))
    with pytest.raises(ValidationError) as exc:
        rule.full_clean()
    assert "symbol is required" in messages_for(exc.value, "symbol")


def test_portfolio_rule_with_symbol_rejected(user):
    rule = AlertRule(
        owner=user, kind=AlertKind.PORTFOLIO_ABOVE, symbol="BTC", threshold=Decimal("1")
    )
    with pytest.raises(ValidationError) as exc:
        rule.full_clean()
    assert "symbol" in exc.value.message_dict


def test_negative_price_threshold_rejected(user):
    rule = AlertRule(
        owner=user, kind=AlertKind.PRICE_BELOW, symbol="BTC", threshold=Decimal("-1")
    )
    with pytest.raises(ValidationError) as exc:
        rule.full_clean()
    assert "threshold" in exc.value.message_dict


def test_negative_change_threshold_allowed(user):
    AlertRule(
        owner=user,
        kind=AlertKind.CHANGE_PCT_BELOW,
        symbol="ETH",
        threshold=Decimal("-5"),
    ).full_clean()


def test_alert_survives_rule_deletion(user):
    rule = AlertRule.objects.create(
        owner=user, kind=AlertKind.PRICE_ABOVE, symbol="BTC", threshold=Decimal("10")
    )
    alert = Alert.objects.create(
        rule=rule,
        owner=user,
        kind=rule.kind,
        symbol="BTC",
        threshold=rule.threshold,
        message="BTC above 10",
        observed_value=Decimal("11"),
        triggered_at="2026-01-01T00:00Z",
    )
    rule.delete()
    alert.refresh_from_db()
    assert alert.rule is None
    assert alert.observed_value == Decimal("11")
