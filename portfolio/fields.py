"""A DecimalField that keeps every digit on SQLite as well as on PostgreSQL.

SQLite gives NUMERIC columns float affinity, so a plain ``DecimalField`` turns
``0.123456789012345678`` into a 15-significant-digit float on save. This field
stores the canonical decimal string in a TEXT column on SQLite (and a real
``numeric(p, s)`` everywhere else), and always reads back a ``Decimal``.
Trade-off on SQLite only: SQL comparisons/ordering on the column are textual,
so the code never filters or aggregates amounts in SQL.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import ValidationError
from django.db import models


class ExactDecimalField(models.DecimalField):
    """DecimalField with an exact round trip on every supported database."""

    def get_internal_type(self) -> str:
        # Not "DecimalField": keeps SQLite's float-based converter away.
        return "ExactDecimalField"

    def db_type(self, connection: Any) -> str:
        if connection.vendor == "sqlite":
            return "text"
        return f"numeric({self.max_digits}, {self.decimal_places})"

    def cast_db_type(self, connection: Any) -> str:
        return self.db_type(connection)

    def get_db_prep_value(self, value: Any, connection: Any, prepared: bool = False):
        if not prepared:
            value = self.get_prep_value(value)
        if value is None or hasattr(value, "as_sql"):
            return value
        if connection.vendor == "sqlite":
            # Fixed-point text, never exponent notation, never float.
            return format(self.to_python(value), "f")
        return self.to_python(value)

    def from_db_value(self, value: Any, expression: Any, connection: Any):
        if value is None or isinstance(value, Decimal):
            return value
        try:
            return Decimal(str(value))
        except InvalidOperation as exc:  # pragma: no cover - corrupt row
            raise ValidationError(f"Stored value {value!r} is not a decimal.") from exc
