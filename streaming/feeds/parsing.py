"""Strict, exact helpers shared by the exchange parsers.

Exchanges send amounts as strings; we turn them into finite Decimals of sane
magnitude and reject anything else with DataError, so one bad frame can never
put NaN, Infinity or a billion-digit number into a portfolio value.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any

import msgspec

from streaming.encoding import exact_loads
from streaming.exceptions import DataError

__all__ = [
    "loads",
    "typed_decoder",
    "Amount",
    "amount",
    "decimal_field",
    "require_mapping",
    "epoch_ms",
    "epoch_ms_value",
    "iso_time",
    "utc_time",
]

_MAX_LEN = 64  # longest numeric string accepted
_MAX_ADJUSTED = 30  # |exponent| bound: 1e-30 .. 1e30 covers every real amount
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

#: An amount field of a typed frame (msgspec): a string of 1 to 64 characters,
#: checked in the decoder's C pass; :func:`amount` makes it a Decimal.
Amount = Annotated[str, msgspec.Meta(min_length=1, max_length=_MAX_LEN)]


def loads(raw: str | bytes) -> Any:
    """Decode JSON with exact Decimals; NaN/Infinity or bad JSON -> DataError."""
    try:
        return exact_loads(raw)
    except (ValueError, TypeError, RecursionError) as exc:
        raise DataError(f"frame is not valid JSON: {exc}") from exc


def typed_decoder(frame_type: type) -> Callable[[bytes | str], Any]:
    """A feed's frame decoder: straight into ``frame_type`` when the frame fits it.

    One msgspec pass that keeps only the struct's fields and checks their
    types; any other frame (acks, errors, other events, a field that does not
    fit, such as an amount sent as a number) is decoded by :func:`loads`, and
    the feed's parser judges the dict with the same checks and errors.
    """
    typed = msgspec.json.Decoder(frame_type)

    def decode(raw: bytes | str) -> Any:
        try:
            return typed.decode(raw)
        except msgspec.DecodeError:  # not this struct: the generic way judges it
            return loads(raw)

    return decode


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
    accepted; bools, floats (inexact: decode frames with :func:`loads`), empty
    or non-numeric strings are not.
    """
    value = obj.get(key)
    if type(value) is str and 0 < len(value) <= _MAX_LEN:
        # The exchanges' own format, by far the most common.
        return amount(value, key, positive)
    if value is None:
        if optional:
            return None
        raise DataError(f"missing field {key!r}")
    if type(value) is float:
        raise DataError(f"field {key!r} was decoded as a float, which is not exact")
    if isinstance(value, bool) or not isinstance(value, str | Decimal | int):
        raise DataError(f"field {key!r} has type {type(value).__name__}")
    if isinstance(value, str):
        raise DataError(f"field {key!r} is empty or too long")
    return _checked(Decimal(value), key, positive)


def amount(text: str, key: str, positive: bool = False) -> Decimal:
    """A numeric string (at most 64 characters) as a finite Decimal of sane size."""
    try:
        number = Decimal(text)
    except InvalidOperation:
        raise DataError(f"field {key!r} is not a number: {text!r}") from None
    return _checked(number, key, positive)


def _checked(number: Decimal, key: str, positive: bool) -> Decimal:
    if not number.is_finite():
        raise DataError(f"field {key!r} is not finite")
    # Zero too: "0E-1000000" is zero, but printed as a million zeros.
    if not -_MAX_ADJUSTED <= number.adjusted() <= _MAX_ADJUSTED:
        raise DataError(f"field {key!r} is out of range")
    if positive and number <= 0:
        raise DataError(f"field {key!r} must be positive, got {number}")
    return number


def epoch_ms(obj: dict[str, Any], key: str) -> datetime:
    """Read an epoch-milliseconds field as an aware UTC datetime, exactly."""
    return epoch_ms_value(obj.get(key), key)


def epoch_ms_value(value: Any, key: str) -> datetime:
    """Epoch milliseconds (an int, not a bool) as an aware UTC datetime, exactly."""
    if type(value) is not int:
        raise DataError(f"field {key!r} is not an integer timestamp")
    if not 0 < value < 10**14:  # up to year ~5138
        raise DataError(f"field {key!r} is out of range: {value}")
    # positional microseconds: exact, and faster than milliseconds=
    return _EPOCH + timedelta(0, 0, value * 1000)


def iso_time(obj: dict[str, Any], key: str) -> datetime:
    """Read an ISO-8601 time field as an aware UTC datetime."""
    value = obj.get(key)
    if not isinstance(value, str) or not value:
        raise DataError(f"field {key!r} is missing or not a string")
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError as exc:
        raise DataError(f"field {key!r} is not ISO-8601: {value!r}") from exc
    return utc_time(parsed, key)


def utc_time(value: datetime, key: str) -> datetime:
    """An aware datetime in UTC; a naive one (no timezone) is a DataError."""
    if value.tzinfo is None:
        raise DataError(f"field {key!r} has no timezone: {value.isoformat()!r}")
    return value if value.tzinfo is UTC else value.astimezone(UTC)
