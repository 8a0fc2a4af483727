"""Strict, exact helpers shared by the exchange parsers.

Exchanges send amounts as strings; we turn them into finite Decimals of sane
magnitude and reject anything else with DataError, so one bad frame can never
put NaN, Infinity or a billion-digit number into a portfolio value.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from streaming.exceptions import DataError

__all__ = ["loads", "decimal_field", "require_mapping", "epoch_ms", "iso_time"]

_MAX_LEN = 64  # longest numeric string accepted
_MAX_ADJUSTED = 30  # |exponent| bound: 1e-30 .. 1e30 covers every real amount
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _reject_constant(name: str) -> Any:
    raise DataError(f"non-finite number {name} in frame")


def loads(raw: str | bytes) -> Any:
    """Decode JSON with exact Decimals; NaN/Infinity or bad JSON -> DataError."""
    try:
        return json.loads(raw, parse_float=Decimal, parse_constant=_reject_constant)
    except DataError:
        raise
    except (ValueError, TypeError, RecursionError) as exc:
        raise DataError(f"frame is not valid JSON: {exc}") from exc


def require_mapping(obj: Any, what: str) -> dict[str, Any]:
    """Return ``obj`` if it is a JSON object, else raise DataError."""
    if not isinstance(obj, dict):
        raise DataError(f"{what} is not a JSON object: {type(obj).__name__}")
    return obj


def decimal_field(
    obj: dict[str, Any], key: str, *, positive: bool = False, optional: bool = False
) -> Decimal | None:
    """Read ``obj[key]`` as a finite Decimal of sane magnitude.

    Strings (the exchanges' format), exact JSON numbers (Decimal/int) are
    accepted; bools, floats, empty or non-numeric strings are not.
    """
    if key not in obj or obj[key] is None:
        if optional:
            return None
        raise DataError(f"missing field {key!r}")
    value = obj[key]
    if isinstance(value, bool) or not isinstance(value, str | Decimal | int):
        raise DataError(f"field {key!r} has type {type(value).__name__}")
    if isinstance(value, str):
        if not value or len(value) > _MAX_LEN:
            raise DataError(f"field {key!r} is empty or too long")
        try:
            value = Decimal(value)
        except InvalidOperation as exc:
            raise DataError(f"field {key!r} is not a number: {obj[key]!r}") from exc
    else:
        value = Decimal(value)
    if not value.is_finite():
        raise DataError(f"field {key!r} is not finite")
    if value and abs(value.adjusted()) > _MAX_ADJUSTED:
        raise DataError(f"field {key!r} is out of range")
    if positive and value <= 0:
        raise DataError(f"field {key!r} must be positive, got {value}")
    return value


def epoch_ms(obj: dict[str, Any], key: str) -> datetime:
    """Read an epoch-milliseconds field as an aware UTC datetime, exactly."""
    value = obj.get(key)
    if isinstance(value, bool) or not isinstance(value, int):
        raise DataError(f"field {key!r} is not an integer timestamp")
    if not 0 < value < 10**14:  # up to year ~5138
        raise DataError(f"field {key!r} is out of range: {value}")
    return _EPOCH + timedelta(milliseconds=value)


def iso_time(obj: dict[str, Any], key: str) -> datetime:
    """Read an ISO-8601 time field as an aware UTC datetime."""
    value = obj.get(key)
    if not isinstance(value, str) or not value:
        raise DataError(f"field {key!r} is missing or not a string")
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError as exc:
        raise DataError(f"field {key!r} is not ISO-8601: {value!r}") from exc
    if parsed.tzinfo is None:
        raise DataError(f"field {key!r} has no timezone: {value!r}")
    return parsed.astimezone(UTC)
