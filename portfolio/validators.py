"""Validators shared by the models, the API and the worker."""

from __future__ import annotations

import re
from decimal import Decimal

from django.core.exceptions import ValidationError

SYMBOL_RE = re.compile(r"^[A-Z0-9]{2,15}$")
MAX_AMOUNT = Decimal(10) ** 15


def validate_symbol(value: str) -> None:
    """Canonical symbols are the base asset in upper case, e.g. ``BTC``."""
    if not isinstance(value, str) or not SYMBOL_RE.fullmatch(value):
        raise ValidationError(
            "Symbol %(value)s is invalid: use 2-15 upper-case letters or digits, "
            "the base asset only (e.g. BTC, not BTC-USD or btc).",
            code="invalid_symbol",
            params={"value": repr(value)},
        )


def _show(value: Decimal) -> str:
    """-1.000000000000000000 → -1 (no exponent)."""
    return format(value.normalize(), "f")


def validate_positive(value: Decimal) -> None:
    if value is not None and value <= 0:
        raise ValidationError(
            "Must be greater than 0 (got %(value)s).",
            code="not_positive",
            params={"value": _show(value)},
        )


def validate_not_negative(value: Decimal) -> None:
    if value is not None and value < 0:
        raise ValidationError(
            "Must not be negative (got %(value)s).",
            code="negative",
            params={"value": _show(value)},
        )


def validate_not_absurd(value: Decimal) -> None:
    if value is not None and abs(value) > MAX_AMOUNT:
        raise ValidationError(
            "Must be at most 10^15 in absolute value (got %(value)s).",
            code="too_large",
            params={"value": _show(value)},
        )
