"""The alert engine: edge-triggered rules that never lose (or double) an alert.

A rule fires when its condition goes from not met (or never evaluated) to met,
stays quiet while it stays met and re-arms when it is no longer met. A crossing
inside the rule's cooldown does not fire but still moves the state. Firing
writes the ``Alert`` row first, in a transaction holding the rule row
(``select_for_update``) and numbering the alert with the rule's
``trigger_count`` (unique per rule), and only then returns it for delivery; so
a crash after the write loses nothing and two racing workers create one row.

Synchronous and database-bound: async callers wrap it in ``sync_to_async``.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from . import selectors
from .models import ABOVE_KINDS, Alert, AlertKind, AlertRule
from .notifications.outbox import deliveries_create_for_alert
from .valuation import WIDE_CONTEXT, parse_decimal

__all__ = ["AlertEngine", "Provenance", "condition_met", "alert_message"]

logger = logging.getLogger(__name__)

PRICE_KINDS = frozenset({AlertKind.PRICE_ABOVE, AlertKind.PRICE_BELOW})
CHANGE_KINDS = frozenset({AlertKind.CHANGE_PCT_ABOVE, AlertKind.CHANGE_PCT_BELOW})
PORTFOLIO_KINDS = frozenset({AlertKind.PORTFOLIO_ABOVE, AlertKind.PORTFOLIO_BELOW})
STORED_QUANTUM = Decimal("1e-18")
MESSAGE_MAX = 300
SIMULATED_NOTE = " (SIMULATED price, not market data)"
MOCK_SOURCE = "mock"


@dataclass(frozen=True)
class Provenance:
    """Where an observed value came from, stored on the Alert it fires."""

    source: str = ""
    quote: str = "USD"
    simulated: bool = False

    @classmethod
    def of_price(cls, price: Mapping[str, Any]) -> Provenance:
        source = str(price.get("source") or "")
        return cls(
            source=source,
            quote=str(price.get("quote") or "USD"),
            simulated=source == MOCK_SOURCE,
        )


def condition_met(kind: str, observed: Decimal, threshold: Decimal) -> bool:
    """Above kinds: strictly greater; below kinds: strictly less."""
    return observed > threshold if kind in ABOVE_KINDS else observed < threshold


def _fmt(value: Decimal) -> str:
    return format(value.normalize() if value else Decimal(0), ",f")


def alert_message(
    rule: AlertRule,
    observed: Decimal,
    *,
    quote: str = "USD",
    simulated: bool = False,
) -> str:
    """Human text, e.g. "BTC price 65,010.12 USDT rose above 65,000 USDT".

    A price rule compares in the price's own quote currency (Binance: USDT),
    and an alert from a simulated price says so: nobody should act on it.
    """
    verb = "rose above" if rule.kind in ABOVE_KINDS else "fell below"
    if rule.kind in PRICE_KINDS:
        text = (
            f"{rule.symbol} price {_fmt(observed)} {quote} {verb} "
            f"{_fmt(rule.threshold)} {quote}"
        )
    elif rule.kind in CHANGE_KINDS:
        text = (
            f"{rule.symbol} 24h change {_fmt(observed)}% {verb} {_fmt(rule.threshold)}%"
        )
    else:
        text = f"Portfolio value {_fmt(observed)} USD {verb} {_fmt(rule.threshold)} USD"
    if simulated:
        text += SIMULATED_NOTE
    return text[:MESSAGE_MAX]


def _in_cooldown(rule: AlertRule, now: datetime) -> bool:
    if rule.last_triggered_at is None or not rule.cooldown_seconds:
        return False
    return now - rule.last_triggered_at < timedelta(seconds=rule.cooldown_seconds)


class AlertEngine:
    """Holds the enabled rules in memory and evaluates them against new values."""

    def __init__(self, *, clock: Callable[[], datetime] = timezone.now) -> None:
        self._clock = clock
        self._by_symbol: dict[str, list[AlertRule]] = defaultdict(list)
        self._by_owner: dict[int, list[AlertRule]] = defaultdict(list)
        self.loaded = False

    def reload(self) -> int:
        """(Re)load every enabled rule from the database; returns how many."""
        by_symbol: dict[str, list[AlertRule]] = defaultdict(list)
        by_owner: dict[int, list[AlertRule]] = defaultdict(list)
        rules = selectors.enabled_alert_rules()
        for rule in rules:
            if rule.kind in PORTFOLIO_KINDS:
                by_owner[rule.owner_id].append(rule)
            else:
                by_symbol[rule.symbol].append(rule)
        self._by_symbol, self._by_owner = by_symbol, by_owner
        self.loaded = True
        return len(rules)

    @property
    def rule_count(self) -> int:
        return sum(map(len, self._by_symbol.values())) + sum(
            map(len, self._by_owner.values())
        )

    def evaluate_price(
        self, price: Mapping[str, Any], *, now: datetime | None = None
    ) -> list[Alert]:
        """Evaluate the price and 24h-change rules of ``price["symbol"]``."""
        if not self.loaded:
            self.reload()
        now = now or self._clock()
        observed = {
            **dict.fromkeys(PRICE_KINDS, parse_decimal(price.get("price"))),
            **dict.fromkeys(
                CHANGE_KINDS, parse_decimal(price.get("change_percent_24h"))
            ),
        }
        origin = Provenance.of_price(price)
        fired = []
        for rule in list(self._by_symbol.get(price.get("symbol"), ())):
            value = observed.get(rule.kind)
            if value is not None and (
                alert := self._evaluate(rule, value, now, origin)
            ):
                fired.append(alert)
        return fired

    def price_may_fire(self, price: Mapping[str, Any]) -> bool:
        """Pure pre-check: would this price change any rule's state?

        Lets the worker call the database-touching :meth:`evaluate_price` only on
        a crossing, not on every tick.
        """
        rules = self._by_symbol.get(price.get("symbol"))
        if not rules:
            return False
        for rule in rules:
            field = "price" if rule.kind in PRICE_KINDS else "change_percent_24h"
            value = parse_decimal(price.get(field))
            if value is not None and (
                condition_met(rule.kind, value, rule.threshold)
                != rule.last_condition_met
            ):
                return True
        return False

    def portfolio_may_fire(self, user_id: int, total_value: Decimal) -> bool:
        """Pure pre-check for :meth:`evaluate_portfolio` (see price_may_fire)."""
        return any(
            condition_met(rule.kind, total_value, rule.threshold)
            != rule.last_condition_met
            for rule in self._by_owner.get(user_id, ())
        )

    def evaluate_portfolio(
        self,
        user_id: int,
        total_value: Decimal,
        *,
        now: datetime | None = None,
        simulated: bool = False,
        sources: Mapping[str, int] | None = None,
    ) -> list[Alert]:
        """Evaluate the portfolio-value rules of one user.

        ``simulated``: whether any price of the total was simulated; ``sources``
        the total's ``{source: count}`` (one source is stored, several as "").
        """
        if not self.loaded:
            self.reload()
        now = now or self._clock()
        names = sorted(sources or ())
        origin = Provenance(
            source=names[0] if len(names) == 1 else "", simulated=simulated
        )
        fired = []
        for rule in list(self._by_owner.get(user_id, ())):
            if alert := self._evaluate(rule, Decimal(total_value), now, origin):
                fired.append(alert)
        return fired

    def _evaluate(
        self, rule: AlertRule, observed: Decimal, now: datetime, origin: Provenance
    ) -> Alert | None:
        met = condition_met(rule.kind, observed, rule.threshold)
        if met == rule.last_condition_met:
            return None
        if met and not _in_cooldown(rule, now):
            return self._fire(rule, observed, now, origin)
        self._save_state(rule, met)
        return None

    def _save_state(self, rule: AlertRule, met: bool) -> None:
        """Persist the edge state only when it changes (not on every tick)."""
        rule.last_condition_met = met
        AlertRule.objects.filter(pk=rule.pk).update(last_condition_met=met)

    def _fire(
        self, rule: AlertRule, observed: Decimal, now: datetime, origin: Provenance
    ) -> Alert | None:
        try:
            with transaction.atomic():
                alert = self._write_alert(rule, observed, now, origin)
        except IntegrityError:
            # Another worker wrote this sequence number first: its alert wins.
            logger.info("Alert for rule %s already written elsewhere", rule.pk)
            rule.last_condition_met = True
            return None
        if not rule.enabled:
            self._forget(rule)
        return alert

    def _write_alert(
        self, rule: AlertRule, observed: Decimal, now: datetime, origin: Provenance
    ) -> Alert | None:
        locked = AlertRule.objects.select_for_update().filter(pk=rule.pk).first()
        if locked is None or not locked.enabled:
            rule.enabled = False  # deleted or disabled since the last reload
            return None
        if locked.last_condition_met or _in_cooldown(locked, now):
            # Another worker saw this crossing already, or fired recently.
            rule.last_triggered_at = locked.last_triggered_at
            if not locked.last_condition_met:
                locked.last_condition_met = True
                locked.save(update_fields=["last_condition_met"])
            rule.last_condition_met = True
            return None
        locked.trigger_count += 1
        alert = Alert.objects.create(
            rule=locked,
            owner_id=locked.owner_id,
            kind=locked.kind,
            symbol=locked.symbol,
            threshold=locked.threshold,
            message=alert_message(
                locked, observed, quote=origin.quote, simulated=origin.simulated
            ),
            source=origin.source,
            simulated=origin.simulated,
            observed_value=observed.quantize(STORED_QUANTUM, context=WIDE_CONTEXT),
            sequence=locked.trigger_count,
            triggered_at=now,
        )
        # The outbox rows commit with the alert: none is lost, none without it.
        deliveries_create_for_alert(alert=alert)
        locked.last_triggered_at = now
        locked.last_condition_met = True
        if locked.one_shot:
            locked.enabled = False
        locked.save(
            update_fields=[
                "trigger_count",
                "last_triggered_at",
                "last_condition_met",
                "enabled",
                "updated_at",
            ]
        )
        for name in (
            "trigger_count",
            "last_triggered_at",
            "last_condition_met",
            "enabled",
        ):
            setattr(rule, name, getattr(locked, name))
        logger.info("Alert %s fired: %s", alert.pk, alert.message)
        return alert

    def _forget(self, rule: AlertRule) -> None:
        for index in (self._by_symbol, self._by_owner):
            for rules in index.values():
                if rule in rules:
                    rules.remove(rule)
