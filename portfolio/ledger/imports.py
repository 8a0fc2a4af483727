"""Import of a CSV file into a ledger: all rows or none, re-import adds nothing.

A dry run does everything (parsing, validation, replay against the existing
ledger) inside a transaction that is then rolled back, so its preview and its
errors are exactly what the real import would give.
"""

from __future__ import annotations

import logging
from typing import Any

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import transaction

from ..valuation import decimal_str
from . import csv_detect, lots, position_cache
from .csv_common import FormatError, ImportRow, ParseResult, RowError
from .models import Transaction, TransactionOrigin
from .services import holdings_sync, transaction_build

__all__ = ["ImportRefused", "transactions_import"]

logger = logging.getLogger(__name__)

PREVIEW_ROWS = 500


class ImportRefused(Exception):
    """The file cannot be imported; ``errors`` say which row and column."""

    def __init__(self, message: str, errors: list[dict[str, Any]] | None = None):
        super().__init__(message)
        self.message = message
        self.errors = errors or []


class _DryRun(Exception):
    """Raised to roll a dry run back after it computed its summary."""


def _refuse_row(error: RowError) -> ImportRefused:
    return ImportRefused(str(error), [error.as_dict()])


def _parse(content: bytes, format: str | None) -> ParseResult:
    limit = getattr(settings, "LEDGER_IMPORT_MAX_BYTES", 5 * 1024 * 1024)
    if len(content) > limit:
        raise ImportRefused(f"The file is over {limit} bytes; split it.")
    try:
        parsed = csv_detect.parse(csv_detect.decode(content), format)
    except FormatError as exc:
        raise ImportRefused(str(exc)) from exc
    except RowError as exc:
        raise _refuse_row(exc) from exc
    except StopIteration as exc:
        raise ImportRefused("The file is empty.") from exc
    max_rows = getattr(settings, "LEDGER_IMPORT_MAX_ROWS", 20_000)
    if len(parsed.rows) > max_rows:
        raise ImportRefused(f"The file has over {max_rows} entries; split it.")
    return parsed


def _build(owner: AbstractBaseUser, row: ImportRow, source: str) -> Transaction:
    try:
        return transaction_build(
            owner=owner,
            kind=row.kind,
            symbol=row.symbol,
            amount=row.amount,
            executed_at=row.executed_at,
            price=row.price,
            fee=row.fee,
            total=row.total,
            note=row.note,
            origin=TransactionOrigin.IMPORT,
            import_source=source,
            import_id=row.import_id,
        )
    except ValidationError as exc:
        name, messages = next(iter(exc.message_dict.items()))
        column = row.columns.get(name, name)
        raise _refuse_row(RowError(row.line, column, " ".join(messages))) from exc


def _preview(row: ImportRow, status: str) -> dict[str, Any]:
    return {
        "row": row.line,
        "status": status,
        "kind": row.kind,
        "symbol": row.symbol,
        "amount": decimal_str(row.amount),
        "price": decimal_str(row.price),
        "fee": decimal_str(row.fee),
        "total": decimal_str(row.total),
        "executed_at": row.executed_at.isoformat(),
        "note": row.note,
    }


def _store(
    owner: AbstractBaseUser, parsed: ParseResult, existing: set[str]
) -> tuple[list[dict[str, Any]], int]:
    preview, created, line_of = [], 0, {}
    # Thousands of rows: the owner's cached positions are invalidated once.
    with position_cache.invalidating(owner.pk):
        for row in parsed.rows:
            if row.import_id in existing:
                preview.append(_preview(row, "duplicate"))
                continue
            existing.add(row.import_id)
            txn = _build(owner, row, parsed.format)
            txn.save()
            line_of[txn.pk] = row
            created += 1
            preview.append(_preview(row, "new"))
    symbols = {row.symbol for row in line_of.values()}
    try:
        holdings_sync(owner=owner, symbols=symbols)
    except lots.OverdrawnError as exc:
        row = line_of.get(exc.entry.seq)
        if row is None:
            raise ImportRefused(str(exc)) from exc
        column = row.columns.get("amount", "amount")
        raise _refuse_row(RowError(row.line, column, str(exc))) from exc
    return preview, created


def transactions_import(
    *,
    owner: AbstractBaseUser,
    content: bytes,
    dry_run: bool = False,
    format: str | None = None,
) -> dict[str, Any]:
    """Import ``content``; a summary with a preview of every entry (new/duplicate)."""
    parsed = _parse(content, format)
    summary: dict[str, Any] = {}
    try:
        with transaction.atomic():
            existing = set(
                Transaction.objects.filter(owner=owner).values_list(
                    "import_id", flat=True
                )
            )
            new = sum(1 for r in parsed.rows if r.import_id not in existing)
            limit = getattr(settings, "LEDGER_MAX_TRANSACTIONS", 100_000)
            if len(existing) + new > limit:
                raise ImportRefused(
                    f"A ledger holds at most {limit} transactions; this file "
                    f"would make {len(existing) + new}."
                )
            preview, created = _store(owner, parsed, existing)
            summary = {
                "format": parsed.format,
                "dry_run": dry_run,
                "entries": len(parsed.rows),
                "created": created,
                "duplicates": len(parsed.rows) - created,
                "skipped": parsed.skipped,
                "warnings": parsed.warnings,
                "preview": preview[:PREVIEW_ROWS],
            }
            if dry_run:
                raise _DryRun
    except _DryRun:
        pass
    logger.info(
        "Import (%s, dry run %s) for user %s: %s new, %s duplicates",
        parsed.format,
        dry_run,
        owner.pk,
        summary["created"],
        summary["duplicates"],
    )
    return summary
