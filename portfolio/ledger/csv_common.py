"""Shared pieces of the CSV formats: parsed rows, row errors, exact readers.

A parser turns a file's text into ``ImportRow``s (one per ledger entry it
implies), rows it deliberately skips (each with its reason, never silently)
and warnings. Any unreadable cell is a ``RowError`` naming the file's line
and the column, in the user's words.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal

__all__ = [
    "ImportRow",
    "ParseResult",
    "RowError",
    "FormatError",
    "read_decimal",
    "read_time",
    "row_id",
]

NUMBER_RE = re.compile(r"^\d+(\.\d+)?$")


class FormatError(ValueError):
    """The file is not one of the supported CSV formats."""


class RowError(ValueError):
    """One cell cannot be read: says which line and column, and why."""

    def __init__(self, line: int, column: str, message: str) -> None:
        self.line, self.column, self.message = line, column, message
        super().__init__(f"Row {line}, column {column!r}: {message}")

    def as_dict(self) -> dict[str, object]:
        return {"row": self.line, "column": self.column, "message": self.message}


@dataclass
class ImportRow:
    """One ledger entry a file describes (``line``: its line in the file)."""

    line: int
    kind: str
    symbol: str
    amount: Decimal
    executed_at: datetime
    price: Decimal | None = None
    fee: Decimal = Decimal(0)
    total: Decimal | None = None
    note: str = ""
    import_id: str = ""
    #: Model field -> the file's column, so a model error names the column.
    columns: dict[str, str] = field(default_factory=dict)


@dataclass
class ParseResult:
    format: str
    rows: list[ImportRow] = field(default_factory=list)
    skipped: list[dict[str, object]] = field(default_factory=list)
    warnings: list[dict[str, object]] = field(default_factory=list)

    def skip(self, line: int, reason: str) -> None:
        self.skipped.append({"row": line, "reason": reason})

    def warn(self, line: int, message: str) -> None:
        self.warnings.append({"row": line, "message": message})


def read_decimal(
    raw: str | None,
    line: int,
    column: str,
    *,
    required: bool = True,
    suffix: bool = False,
    signed: bool = False,
) -> Decimal | None:
    """An exact non-negative Decimal from a cell (``$1,234.50`` and ``-`` allowed
    where the format uses them; ``suffix``: a trailing unit like ``0.5BTC``)."""
    text = (raw or "").strip()
    if not text:
        if required:
            raise RowError(line, column, "is empty; a number is required.")
        return None
    negative = text.startswith("-")
    if negative:
        if not signed:
            raise RowError(line, column, f"{text!r} must not be negative.")
        text = text[1:]
    text = text.replace("$", "").replace(",", "").strip()
    if suffix:
        text = re.sub(r"[A-Za-z]+$", "", text)
    if not NUMBER_RE.fullmatch(text):
        raise RowError(line, column, f"{(raw or '').strip()!r} is not a number.")
    return Decimal(text)


def read_time(raw: str | None, line: int, column: str) -> datetime:
    """ISO-8601 (``Z`` or an offset), ``YYYY-MM-DD HH:MM:SS[ UTC]``; naive = UTC."""
    text = (raw or "").strip()
    if text.endswith(" UTC"):
        text = text[:-4]
    if text.endswith("Z"):
        text = text[:-1] + "+00:00"
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        raise RowError(
            line,
            column,
            f"{(raw or '').strip()!r} is not a date and time "
            "(expected e.g. 2024-01-31T14:05:00Z).",
        ) from None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def row_id(source: str, *parts: object, seen: dict[str, int]) -> str:
    """A stable id for a row without one: its content plus its occurrence, so
    re-importing a file matches, and two identical rows in one file both count."""
    digest = hashlib.sha256("|".join(map(str, parts)).encode()).hexdigest()[:24]
    seen[digest] = seen.get(digest, 0) + 1
    return f"{source}-{digest}-{seen[digest]}"
