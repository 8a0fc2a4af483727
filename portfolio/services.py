"""Writes of the portfolio domain: one place that validates and saves.

Every function is keyword-only and atomic and runs ``full_clean()``, so the
admin, the API and the worker share the model's validation.
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from rest_framework.authtoken.models import Token

from .listings import validate_listed
from .models import Alert, AlertRule, Holding, WatchedSymbol

__all__ = [
    "holding_create",
    "holding_update",
    "holding_delete",
    "alert_rule_create",
    "alert_rule_update",
    "alert_rule_delete",
    "alert_acknowledge",
    "token_get_or_create",
    "token_revoke",
    "watch_add",
    "watch_remove",
]

HOLDING_FIELDS = frozenset({"symbol", "amount", "cost_basis"})
ALERT_RULE_FIELDS = frozenset(
    {"kind", "symbol", "threshold", "enabled", "one_shot", "cooldown_seconds"}
)


DUPLICATE_HOLDING_MESSAGE = (
    "You already hold {symbol}; edit the existing holding instead."
)


def _check_unique_symbol(holding: Holding) -> None:
    """Report a duplicate on ``symbol`` (the model's constraint reports it globally)."""
    duplicate = Holding.objects.filter(owner=holding.owner_id, symbol=holding.symbol)
    if holding.pk is not None:
        duplicate = duplicate.exclude(pk=holding.pk)
    if duplicate.exists():
        raise ValidationError(
            {"symbol": DUPLICATE_HOLDING_MESSAGE.format(symbol=holding.symbol)},
            code="duplicate",
        )


def _apply(instance: Any, data: dict[str, Any], allowed: frozenset[str]) -> None:
    unknown = set(data) - allowed
    if unknown:
        raise TypeError(f"Cannot update field(s): {', '.join(sorted(unknown))}")
    for name, value in data.items():
        setattr(instance, name, value)


@transaction.atomic
def holding_create(
    *,
    owner: AbstractBaseUser,
    symbol: str,
    amount: Decimal,
    cost_basis: Decimal | None = None,
) -> Holding:
    holding = Holding(owner=owner, symbol=symbol, amount=amount, cost_basis=cost_basis)
    _check_unique_symbol(holding)
    holding.full_clean()
    validate_listed(holding.symbol)
    holding.save()
    return holding


@transaction.atomic
def holding_update(*, holding: Holding, data: dict[str, Any]) -> Holding:
    """Change symbol, amount and/or cost basis (only the keys given)."""
    _apply(holding, data, HOLDING_FIELDS)
    _check_unique_symbol(holding)
    holding.full_clean()
    if "symbol" in data:
        validate_listed(holding.symbol)
    holding.save(update_fields=[*data, "updated_at"])
    return holding


@transaction.atomic
def holding_delete(*, holding: Holding) -> None:
    holding.delete()


@transaction.atomic
def alert_rule_create(
    *,
    owner: AbstractBaseUser,
    kind: str,
    threshold: Decimal,
    symbol: str = "",
    enabled: bool = True,
    one_shot: bool = False,
    cooldown_seconds: int = 300,
) -> AlertRule:
    rule = AlertRule(
        owner=owner,
        kind=kind,
        symbol=symbol or "",
        threshold=threshold,
        enabled=enabled,
        one_shot=one_shot,
        cooldown_seconds=cooldown_seconds,
    )
    rule.full_clean()
    if rule.needs_symbol:
        validate_listed(rule.symbol)
    rule.save()
    return rule


@transaction.atomic
def alert_rule_update(*, rule: AlertRule, data: dict[str, Any]) -> AlertRule:
    """Change a rule; a new condition (kind/symbol/threshold) re-arms it."""
    data = dict(data)
    if "symbol" in data and data["symbol"] is None:
        data["symbol"] = ""
    condition_changed = any(
        name in data and data[name] != getattr(rule, name)
        for name in ("kind", "symbol", "threshold")
    )
    _apply(rule, data, ALERT_RULE_FIELDS)
    fields = [*data, "updated_at"]
    if condition_changed:
        rule.last_condition_met = None
        fields.append("last_condition_met")
    rule.full_clean()
    if rule.needs_symbol and ("symbol" in data or "kind" in data):
        validate_listed(rule.symbol)
    # Only the edited fields: the alert engine owns trigger_count and
    # last_triggered_at, and this instance may be older than its last firing.
    rule.save(update_fields=fields)
    return rule


@transaction.atomic
def alert_rule_delete(*, rule: AlertRule) -> None:
    """Delete the rule; its alerts stay (``rule`` becomes null)."""
    rule.delete()


@transaction.atomic
def alert_acknowledge(*, owner: AbstractBaseUser, alert_ids: Iterable[int]) -> int:
    """Acknowledge the owner's alerts among ``alert_ids``; idempotent.

    Returns how many were newly acknowledged (ids of other users' alerts or
    already acknowledged ones are ignored).
    """
    return Alert.objects.filter(
        owner=owner, id__in=list(alert_ids), acknowledged_at__isnull=True
    ).update(acknowledged_at=timezone.now())


@transaction.atomic
def token_get_or_create(*, user: AbstractBaseUser) -> tuple[Token, bool]:
    """The user's API token, created if they have none (one token per user)."""
    return Token.objects.get_or_create(user=user)


@transaction.atomic
def token_revoke(*, user: AbstractBaseUser) -> bool:
    """Delete the user's token; it stops working at once. True if one existed."""
    deleted, _ = Token.objects.filter(user=user).delete()
    return deleted > 0


@transaction.atomic
def watch_add(*, owner: AbstractBaseUser, symbol: str) -> WatchedSymbol:
    """Follow ``symbol`` (listed on a configured exchange); once per symbol."""
    entry = WatchedSymbol(owner=owner, symbol=symbol)
    entry.full_clean(validate_constraints=False)
    validate_listed(symbol)
    if WatchedSymbol.objects.filter(owner=owner, symbol=symbol).exists():
        raise ValidationError(
            {"symbol": f"You already watch {symbol}."}, code="duplicate"
        )
    entry.save()
    return entry


@transaction.atomic
def watch_remove(*, entry: WatchedSymbol) -> None:
    entry.delete()
