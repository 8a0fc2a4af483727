"""The one JSON encoding of the product: frames, API bodies, events and logs.

Money must print the same everywhere, so every ``Decimal`` becomes its exact
fixed-point string (``format(value, "f")``: ``Decimal("1E+2")`` is ``"100"``,
never ``1e2`` or a float), datetimes ISO-8601, enums their value and sets a
sorted list. Nothing here ever turns a Decimal into a float.
"""

from __future__ import annotations

import json
from datetime import date, datetime, time
from decimal import Decimal
from enum import Enum
from typing import Any

import msgspec

__all__ = [
    "default",
    "dumps",
    "to_plain",
    "JSONEncoder",
    "decimal_str",
    "exact_loads",
    "nesting_exceeds",
]

# One C pass, and every JSON number with a fraction or an exponent becomes an
# exact Decimal (never a float); integers stay int. Strict JSON: NaN and
# Infinity are malformed, as they are for the exchanges.
_EXACT_DECODER = msgspec.json.Decoder(float_hook=Decimal)


def exact_loads(raw: bytes | str) -> Any:
    """Decode JSON exactly: numbers with a fraction as Decimal, never float.

    A ValueError (``msgspec.DecodeError``) for malformed JSON, NaN/Infinity or
    an integer with more digits than Python converts; RecursionError for
    nesting deeper than the decoder's limit. About 4x ``json.loads`` with
    ``parse_float=Decimal``, as fast as orjson, and exact for exchanges that
    send amounts as JSON numbers (Kraken) as well as strings.
    """
    return _EXACT_DECODER.decode(raw)


def decimal_str(value: Decimal | None) -> str | None:
    """A Decimal as exact fixed-point text (``None`` stays ``None``)."""
    if value is None:
        return None
    # str() is twice as fast and the same text unless it chose exponent form.
    text = str(value)
    return text if "E" not in text else format(value, "f")


def default(value: Any) -> Any:
    """``json.dumps(default=...)`` hook: exact text for the types JSON lacks."""
    if isinstance(value, Decimal):
        return decimal_str(value)
    if isinstance(value, (datetime, date, time)):
        return value.isoformat()
    if isinstance(value, Enum):
        return to_plain(value.value)
    if isinstance(value, (set, frozenset)):
        return sorted(value, key=str)
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


def dumps(obj: Any) -> str:
    """Compact JSON text with Decimal, datetime and Enum rendered exactly."""
    return json.dumps(obj, default=default, separators=(",", ":"))


def to_plain(value: Any) -> Any:
    """The same rendering as :func:`dumps`, as plain Python data.

    Channel-layer messages (msgpack) and cache entries carry only plain types,
    so values are converted before they leave the process.
    """
    if isinstance(value, dict):
        return {str(k): to_plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_plain(v) for v in value]
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    return to_plain(default(value))


class JSONEncoder(json.JSONEncoder):
    """The encoder for libraries that take a class (DRF renderers, logging)."""

    def default(self, o: Any) -> Any:  # noqa: D102 - json.JSONEncoder hook
        return default(o)


def nesting_exceeds(text: str, limit: int) -> bool:
    """Whether JSON ``text`` nests arrays/objects past ``limit`` (strings skipped).

    Checked before ``json.loads``: 100,000 ``[`` would recurse past Python's
    limit (a RecursionError) on the way to saying what is wrong.
    """
    if text.count("[") + text.count("{") <= limit:
        return False
    depth, in_string, escaped = 0, False, False
    for char in text:
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in "[{":
            depth += 1
            if depth > limit:
                return True
        elif char in "]}":
            depth -= 1
    return False
