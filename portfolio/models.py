"""Persistent domain: holdings, alert rules, triggered alerts, value snapshots.

Validation lives here (``clean``/validators) so the admin, the API and the
worker all enforce the same rules.
"""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models

from .fields import ExactDecimalField
from .validators import (
    validate_not_absurd,
    validate_not_negative,
    validate_positive,
    validate_symbol,
)

# 16 integer digits (values up to 10^16 - 1) and 18 decimal places.
AMOUNT_FIELD_KWARGS = {"max_digits": 34, "decimal_places": 18}


class Holding(models.Model):
    """An amount of one asset owned by one user; at most one row per symbol."""

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="holdings"
    )
    symbol = models.CharField(max_length=15, validators=[validate_symbol])
    amount = ExactDecimalField(
        **AMOUNT_FIELD_KWARGS, validators=[validate_positive, validate_not_absurd]
    )
    cost_basis = ExactDecimalField(
        **AMOUNT_FIELD_KWARGS,
        null=True,
        blank=True,
        validators=[validate_not_negative, validate_not_absurd],
        help_text="Total amount paid for this holding, in USD.",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["symbol"]
        constraints = [
            models.UniqueConstraint(
                fields=["owner", "symbol"],
                name="holding_unique_owner_symbol",
                violation_error_message="You already hold this symbol; "
                "edit the existing holding instead.",
            )
        ]

    def __str__(self) -> str:
        return f"{self.amount.normalize():f} {self.symbol} ({self.owner})"


class AlertKind(models.TextChoices):
    PRICE_ABOVE = "price_above", "Price above"
    PRICE_BELOW = "price_below", "Price below"
    CHANGE_PCT_ABOVE = "change_pct_above", "24h change % above"
    CHANGE_PCT_BELOW = "change_pct_below", "24h change % below"
    PORTFOLIO_ABOVE = "portfolio_above", "Portfolio value above"
    PORTFOLIO_BELOW = "portfolio_below", "Portfolio value below"


SYMBOL_KINDS = frozenset(
    {
        AlertKind.PRICE_ABOVE,
        AlertKind.PRICE_BELOW,
        AlertKind.CHANGE_PCT_ABOVE,
        AlertKind.CHANGE_PCT_BELOW,
    }
)
ABOVE_KINDS = frozenset(
    {AlertKind.PRICE_ABOVE, AlertKind.CHANGE_PCT_ABOVE, AlertKind.PORTFOLIO_ABOVE}
)


class AlertRule(models.Model):
    """A line a user wants to hear about when a price or the portfolio crosses it."""

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="alert_rules"
    )
    kind = models.CharField(max_length=20, choices=AlertKind.choices)
    symbol = models.CharField(
        max_length=15,
        blank=True,
        default="",
        help_text="Required for price and change kinds, empty for portfolio kinds.",
    )
    threshold = ExactDecimalField(
        **AMOUNT_FIELD_KWARGS, validators=[validate_not_absurd]
    )
    enabled = models.BooleanField(default=True)
    one_shot = models.BooleanField(
        default=False, help_text="Disable the rule after it fires once."
    )
    cooldown_seconds = models.PositiveIntegerField(
        default=300, help_text="Minimum time between two alerts of this rule."
    )
    last_triggered_at = models.DateTimeField(null=True, blank=True)
    # Edge-trigger state survives a worker restart: was the condition met at
    # the last evaluation (None = never evaluated)?
    last_condition_met = models.BooleanField(null=True, blank=True, editable=False)
    trigger_count = models.PositiveIntegerField(default=0, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["enabled", "kind"])]

    def __str__(self) -> str:
        target = self.symbol or "portfolio"
        return f"{self.get_kind_display()} {self.threshold.normalize():f} ({target})"

    @property
    def needs_symbol(self) -> bool:
        return self.kind in SYMBOL_KINDS

    def clean(self) -> None:
        super().clean()
        if self.needs_symbol:
            if not self.symbol:
                raise ValidationError(
                    {"symbol": "A symbol is required for price and 24h-change rules."}
                )
            validate_symbol(self.symbol)
        elif self.symbol:
            raise ValidationError(
                {
                    "symbol": "Portfolio rules apply to the whole portfolio; leave the "
                    "symbol empty."
                }
            )
        if self.kind in (AlertKind.PRICE_ABOVE, AlertKind.PRICE_BELOW) or self.kind in (
            AlertKind.PORTFOLIO_ABOVE,
            AlertKind.PORTFOLIO_BELOW,
        ):
            if self.threshold is not None and self.threshold < 0:
                raise ValidationError(
                    {"threshold": "A price or value threshold cannot be negative."}
                )


class Alert(models.Model):
    """A triggered alert: a record that the system never deletes."""

    rule = models.ForeignKey(
        AlertRule,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="alerts",
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="alerts"
    )
    kind = models.CharField(max_length=20, choices=AlertKind.choices)
    symbol = models.CharField(max_length=15, blank=True, default="")
    threshold = ExactDecimalField(**AMOUNT_FIELD_KWARGS)
    message = models.CharField(max_length=300)
    observed_value = ExactDecimalField(**AMOUNT_FIELD_KWARGS)
    # The rule's trigger_count at firing: one crossing, one row, even if two
    # workers evaluate the same crossing.
    sequence = models.PositiveIntegerField(default=0)
    triggered_at = models.DateTimeField(db_index=True)
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    # Provenance of the observed value: the price source (binance, coinbase,
    # mock, ...; "" for portfolio totals from several) and whether any price
    # it rests on was simulated.
    source = models.CharField(max_length=20, blank=True, default="")
    simulated = models.BooleanField(default=False)

    class Meta:
        ordering = ["-triggered_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["rule", "sequence"], name="alert_unique_rule_sequence"
            )
        ]
        indexes = [models.Index(fields=["owner", "acknowledged_at"])]

    def __str__(self) -> str:
        return self.message

    @property
    def acknowledged(self) -> bool:
        return self.acknowledged_at is not None


class PortfolioSnapshot(models.Model):
    """A user's total portfolio value at a moment, for the value-history chart."""

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="snapshots"
    )
    total_value = ExactDecimalField(**AMOUNT_FIELD_KWARGS)
    taken_at = models.DateTimeField()
    # True when any price of this total was simulated (not market data).
    simulated = models.BooleanField(default=False)

    class Meta:
        ordering = ["-taken_at"]
        indexes = [models.Index(fields=["owner", "taken_at"])]

    def __str__(self) -> str:
        value = self.total_value.normalize()
        return f"{self.owner} {value:f} @ {self.taken_at:%Y-%m-%d %H:%M}"


# Registered with this app; defined in their own package (portfolio/notifications).
class WatchedSymbol(models.Model):
    """A symbol a user follows without holding it: a ticker row on the dashboard."""

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="watched"
    )
    symbol = models.CharField(max_length=15, validators=[validate_symbol])
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["symbol"]
        constraints = [
            models.UniqueConstraint(
                fields=["owner", "symbol"], name="watched_unique_owner_symbol"
            )
        ]

    def __str__(self) -> str:
        return f"{self.symbol} ({self.owner})"


# The ledger's models live in their own module; imported here so Django
# registers them with this app.
from .ledger.models import (  # noqa: E402, F401
    CostMethod,
    LedgerSettings,
    Transaction,
    TransactionKind,
    TransactionOrigin,
)
from .market.models import Candle, CandleInterval  # noqa: E402, F401
from .notifications.models import Delivery, NotificationChannel  # noqa: E402, F401
