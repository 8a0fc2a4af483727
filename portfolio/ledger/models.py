"""Ledger rows: every buy, sell and transfer, and each user's cost method.

Imported by ``portfolio.models`` so Django registers them in the portfolio app.
Holdings are a projection of these rows (see ``portfolio.ledger.services``).
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models

from ..fields import ExactDecimalField
from ..validators import (
    validate_not_absurd,
    validate_not_negative,
    validate_positive,
    validate_symbol,
)

AMOUNT_FIELD_KWARGS = {"max_digits": 34, "decimal_places": 18}


def new_import_id() -> str:
    """Every row gets an id, so an exported file re-imports as duplicates."""
    return f"m-{uuid.uuid4().hex}"


class TransactionKind(models.TextChoices):
    BUY = "buy", "Buy"
    SELL = "sell", "Sell"
    TRANSFER_IN = "transfer_in", "Transfer in"
    TRANSFER_OUT = "transfer_out", "Transfer out"


class TransactionOrigin(models.TextChoices):
    MANUAL = "manual", "Entered by hand"
    IMPORT = "import", "Imported from a file"


class CostMethod(models.TextChoices):
    FIFO = "fifo", "First in, first out"
    AVERAGE = "average", "Average cost"


PRICED_KINDS = frozenset({TransactionKind.BUY, TransactionKind.SELL})


class Transaction(models.Model):
    """One movement of one asset; holdings and P/L are replayed from these."""

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="transactions"
    )
    kind = models.CharField(max_length=12, choices=TransactionKind.choices)
    symbol = models.CharField(max_length=15, validators=[validate_symbol])
    amount = ExactDecimalField(
        **AMOUNT_FIELD_KWARGS, validators=[validate_positive, validate_not_absurd]
    )
    price = ExactDecimalField(
        **AMOUNT_FIELD_KWARGS,
        null=True,
        blank=True,
        validators=[validate_not_negative, validate_not_absurd],
        help_text="USD per unit; required for buy and sell, optional for transfers.",
    )
    fee = ExactDecimalField(
        **AMOUNT_FIELD_KWARGS,
        default=0,
        validators=[validate_not_negative, validate_not_absurd],
        help_text="USD; adds to a buy's cost, reduces a sell's proceeds.",
    )
    total = ExactDecimalField(
        **AMOUNT_FIELD_KWARGS,
        null=True,
        blank=True,
        validators=[validate_not_negative, validate_not_absurd],
        help_text="Gross USD value before fees when a source states it "
        "(e.g. Coinbase's Subtotal); otherwise amount x price.",
    )
    executed_at = models.DateTimeField()
    note = models.CharField(max_length=300, blank=True, default="")
    origin = models.CharField(
        max_length=10,
        choices=TransactionOrigin.choices,
        default=TransactionOrigin.MANUAL,
    )
    import_source = models.CharField(
        max_length=20, blank=True, default="", help_text="generic, coinbase, binance."
    )
    import_id = models.CharField(max_length=100, default=new_import_id)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-executed_at", "-id"]
        indexes = [models.Index(fields=["owner", "symbol", "executed_at"])]
        constraints = [
            models.UniqueConstraint(
                fields=["owner", "import_id"], name="transaction_unique_import_id"
            )
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.amount.normalize():f} {self.symbol} ({self.owner})"

    def clean(self) -> None:
        super().clean()
        if self.kind in PRICED_KINDS and self.price is None:
            raise ValidationError(
                {"price": "A buy or sell needs a price (USD per unit)."}
            )


class LedgerSettings(models.Model):
    """Per-user ledger preferences (a missing row means the defaults)."""

    owner = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="ledger_settings",
    )
    cost_method = models.CharField(
        max_length=10, choices=CostMethod.choices, default=CostMethod.FIFO
    )

    def __str__(self) -> str:
        return f"{self.owner}: {self.cost_method}"
