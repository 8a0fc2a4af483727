"""Reads of the portfolio domain, always scoped to an owner where it matters."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.db.models import BooleanField, ExpressionWrapper, Q, QuerySet
from rest_framework.authtoken.models import Token

from .models import Alert, AlertRule, Holding, PortfolioSnapshot, WatchedSymbol

__all__ = [
    "holding_list",
    "holding_get",
    "held_symbols",
    "watched_symbols",
    "watch_list",
    "watch_symbols_of",
    "alert_rule_list",
    "alert_rule_get",
    "enabled_alert_rules",
    "alert_list",
    "alert_get",
    "unacknowledged_alerts",
    "snapshot_list",
    "token_of",
]


def holding_list(*, owner: AbstractBaseUser) -> QuerySet[Holding]:
    return Holding.objects.filter(owner=owner).order_by("symbol")


def holding_get(*, owner: AbstractBaseUser, pk: int) -> Holding | None:
    return Holding.objects.filter(owner=owner, pk=pk).first()


def held_symbols(*, owner: AbstractBaseUser | None = None) -> list[str]:
    """Distinct held symbols, of one owner or of everybody."""
    qs = Holding.objects.all() if owner is None else Holding.objects.filter(owner=owner)
    return sorted(set(qs.values_list("symbol", flat=True)))


def watched_symbols() -> list[str]:
    """What the worker streams: WATCH_SYMBOLS, every watch list, every holding."""
    listed = WatchedSymbol.objects.values_list("symbol", flat=True)
    return sorted(set(settings.WATCH_SYMBOLS) | set(listed) | set(held_symbols()))


def watch_list(*, owner: AbstractBaseUser) -> QuerySet[WatchedSymbol]:
    return WatchedSymbol.objects.filter(owner=owner).order_by("symbol")


def watch_symbols_of(*, owner: AbstractBaseUser) -> list[str]:
    """The symbols one user follows: the configured ones and their watch list."""
    own = watch_list(owner=owner).values_list("symbol", flat=True)
    return sorted(set(settings.WATCH_SYMBOLS) | set(own))


def alert_rule_list(*, owner: AbstractBaseUser) -> QuerySet[AlertRule]:
    return AlertRule.objects.filter(owner=owner).order_by("-created_at", "-id")


def alert_rule_get(*, owner: AbstractBaseUser, pk: int) -> AlertRule | None:
    return AlertRule.objects.filter(owner=owner, pk=pk).first()


def enabled_alert_rules() -> list[AlertRule]:
    """Every enabled rule of every user, for the alert engine."""
    return list(AlertRule.objects.filter(enabled=True).order_by("id"))


def alert_list(
    *, owner: AbstractBaseUser, acknowledged: bool | None = None
) -> QuerySet[Alert]:
    """Unacknowledged first, then newest first."""
    qs = Alert.objects.filter(owner=owner).prefetch_related("deliveries__channel")
    if acknowledged is not None:
        qs = qs.filter(acknowledged_at__isnull=not acknowledged)
    is_acknowledged = ExpressionWrapper(
        Q(acknowledged_at__isnull=False), output_field=BooleanField()
    )
    return qs.alias(is_acknowledged=is_acknowledged).order_by(
        "is_acknowledged", "-triggered_at", "-id"
    )


def alert_get(*, owner: AbstractBaseUser, pk: int) -> Alert | None:
    return Alert.objects.filter(owner=owner, pk=pk).first()


def unacknowledged_alerts(*, owner: AbstractBaseUser) -> QuerySet[Alert]:
    return alert_list(owner=owner, acknowledged=False)


def snapshot_list(
    *, owner: AbstractBaseUser, since: datetime
) -> Iterable[tuple[datetime, object, bool]]:
    """``(taken_at, total_value, simulated)`` since ``since``, oldest first."""
    return (
        PortfolioSnapshot.objects.filter(owner=owner, taken_at__gte=since)
        .order_by("taken_at")
        .values_list("taken_at", "total_value", "simulated")
    )


def holdings_fingerprint() -> tuple:
    """Changes whenever any holding or ledger transaction changes (cheap to poll).

    Transactions count too: editing a sell's price changes realized P/L without
    changing any holding.
    """
    from django.db.models import Count, Max

    from .ledger.selectors import transactions_fingerprint

    agg = Holding.objects.aggregate(
        n=Count("id"), last=Max("updated_at"), top=Max("id")
    )
    # Watch lists change what is streamed too (entries are never edited).
    watched = WatchedSymbol.objects.aggregate(n=Count("id"), top=Max("id"))
    return (
        agg["n"],
        agg["last"],
        agg["top"],
        watched["n"],
        watched["top"],
        *transactions_fingerprint(),
    )


def alert_rules_fingerprint() -> tuple:
    """Changes whenever any alert rule is added, edited or deleted."""
    from django.db.models import Count, Max

    agg = AlertRule.objects.aggregate(
        n=Count("id"), last=Max("updated_at"), top=Max("id")
    )
    return (agg["n"], agg["last"], agg["top"])


def positions_by_owner() -> dict[int, dict[str, tuple]]:
    """``{owner_id: {symbol: (amount, cost_basis, realized_pl, unknown_amount)}}``.

    Replayed from the ledger (closed positions have amount 0 and keep their
    realized P/L); see ``portfolio.ledger.selectors.positions_by_owner``.
    """
    from .ledger.selectors import positions_by_owner as ledger_positions

    return ledger_positions()


def token_of(*, user: AbstractBaseUser) -> Token | None:
    return Token.objects.filter(user=user).first()
