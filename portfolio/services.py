"""Writes of the portfolio domain: one place that validates and saves.

Every function is keyword-only and atomic and runs ``full_clean()``, so the
admin, the API and the worker share the model's validation.
"""

from __future__ import annotations

import decimal
from collections.abc import Iterable
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from rest_framework.authtoken.models import Token

from .ledger import services as ledger_services
from .ledger.models import Transaction
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


HOLDINGS_API_NOTE = "Set through the holdings API"
OPENING_QUANTUM = Decimal("1e-18")
OPENING_CONTEXT = decimal.Context(prec=120, rounding=decimal.ROUND_HALF_EVEN)

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


def _check_quota(owner: AbstractBaseUser, model: type, limit: int, what: str) -> None:
    """Refuse a write past the per-user quota; the owner's row is locked so two
    concurrent creates cannot both pass the count (one account with 20,000
    rules froze everyone's prices)."""
    get_user_model().objects.select_for_update().filter(pk=owner.pk).exists()
    if model.objects.filter(owner=owner).count() >= limit:
        raise ValidationError(
            f"You can have at most {limit} {what}; delete some before adding more.",
            code="quota",
        )


def _apply(instance: Any, data: dict[str, Any], allowed: frozenset[str]) -> None:
    unknown = set(data) - allowed
    if unknown:
        raise TypeError(f"Cannot update field(s): {', '.join(sorted(unknown))}")
    for name, value in data.items():
        setattr(instance, name, value)


def _opening(
    owner: AbstractBaseUser,
    symbol: str,
    amount: Decimal,
    cost_basis: Decimal | None,
    when: datetime,
    *,
    adjustment: bool = False,
) -> Transaction:
    """One entry that opens ``amount`` at total cost ``cost_basis`` (None: unknown).

    A known cost is a buy at cost/amount per unit whose ``total`` is the cost
    itself, so the lot's cost is exact even when the unit price is not. An
    adjustment (an edit) is a transfer_in at that cost: nothing was bought.
    """
    price = None
    if cost_basis is not None:
        price = OPENING_CONTEXT.divide(cost_basis, amount).quantize(
            OPENING_QUANTUM, context=OPENING_CONTEXT
        )
    txn = ledger_services.transaction_build(
        owner=owner,
        kind="buy" if cost_basis is not None and not adjustment else "transfer_in",
        symbol=symbol,
        amount=amount,
        price=price,
        total=cost_basis,
        executed_at=when,
        note=HOLDINGS_API_NOTE,
    )
    txn.save()
    return txn


def _closing(
    owner: AbstractBaseUser, symbol: str, amount: Decimal, when: datetime
) -> Transaction:
    """Take the whole position out without realizing P/L (a transfer_out)."""
    txn = ledger_services.transaction_build(
        owner=owner,
        kind="transfer_out",
        symbol=symbol,
        amount=amount,
        executed_at=when,
        note=HOLDINGS_API_NOTE,
    )
    txn.save()
    return txn


@transaction.atomic
def holding_create(
    *,
    owner: AbstractBaseUser,
    symbol: str,
    amount: Decimal,
    cost_basis: Decimal | None = None,
) -> Holding:
    """Open a position through the ledger (a buy, or a transfer_in without cost)."""
    holding = Holding(owner=owner, symbol=symbol, amount=amount, cost_basis=cost_basis)
    _check_unique_symbol(holding)
    _check_quota(owner, Holding, settings.MAX_HOLDINGS_PER_USER, "holdings")
    holding.full_clean()
    validate_listed(holding.symbol)
    _opening(owner, symbol, amount, cost_basis, timezone.now())
    ledger_services.holdings_sync_checked(owner, {symbol})
    return Holding.objects.get(owner=owner, symbol=symbol)


@transaction.atomic
def holding_update(*, holding: Holding, data: dict[str, Any]) -> Holding:
    """Set symbol, amount and/or cost basis (only the keys given) via the ledger.

    Written as a transfer_out of the current position and a transfer_in of the
    new one (no P/L realized); the row keeps its id, even across a rename.
    """
    owner, old_symbol, old_amount = holding.owner, holding.symbol, holding.amount
    _apply(holding, data, HOLDING_FIELDS)
    _check_unique_symbol(holding)
    holding.full_clean()
    if "symbol" in data:
        validate_listed(holding.symbol)
    if "cost_basis" not in data:
        holding.cost_basis = Holding.objects.get(pk=holding.pk).cost_basis
    now = timezone.now()
    # Same time, ids in order: the replay takes the old position out first.
    _closing(owner, old_symbol, old_amount, now)
    _opening(
        owner, holding.symbol, holding.amount, holding.cost_basis, now, adjustment=True
    )
    # Rename the row first so the projection rewrites it instead of a new one.
    Holding.objects.filter(pk=holding.pk).update(symbol=holding.symbol)
    ledger_services.holdings_sync_checked(owner, {old_symbol, holding.symbol})
    return Holding.objects.get(pk=holding.pk)


@transaction.atomic
def holding_delete(*, holding: Holding) -> None:
    """Close the position through the ledger (a transfer_out of all of it)."""
    _closing(holding.owner, holding.symbol, holding.amount, timezone.now())
    ledger_services.holdings_sync_checked(holding.owner, {holding.symbol})


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
    _check_quota(owner, AlertRule, settings.MAX_ALERT_RULES_PER_USER, "alert rules")
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
