"""The generic ledger CSV: what ``GET /api/transactions/export/`` writes.

Columns (header row required, order free, extra columns ignored)::

    executed_at,kind,symbol,amount,price,fee,total,note,import_id

* ``executed_at`` ISO-8601 (``2024-01-31T14:05:00Z``; no zone = UTC)
* ``kind`` buy, sell, transfer_in or transfer_out
* ``symbol`` base asset (BTC); ``amount`` units, > 0
* ``price`` USD per unit (required for buy and sell); ``fee`` USD (empty = 0)
* ``total`` optional gross USD value before fees (else amount x price)
* ``note`` free text; ``import_id`` optional: a row whose id is already in the
  ledger is skipped, which makes an exported file re-import as no change.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable

from ..valuation import decimal_str
from .csv_common import ImportRow, ParseResult, RowError, read_decimal, read_time
from .csv_common import row_id as make_row_id

__all__ = ["COLUMNS", "REQUIRED", "matches", "parse", "export"]

COLUMNS = (
    "executed_at",
    "kind",
    "symbol",
    "amount",
    "price",
    "fee",
    "total",
    "note",
    "import_id",
)
REQUIRED = ("executed_at", "kind", "symbol", "amount")
KINDS = ("buy", "sell", "transfer_in", "transfer_out")


def matches(header: list[str]) -> bool:
    return set(REQUIRED) <= {h.strip().lower() for h in header}


def parse(text: str) -> ParseResult:
    result = ParseResult(format="generic")
    reader = csv.reader(io.StringIO(text))
    header = [h.strip().lower() for h in next(reader)]
    seen: dict[str, int] = {}
    for number, cells in enumerate(reader, start=2):
        if not any(c.strip() for c in cells):
            continue
        row = dict(zip(header, cells, strict=False))
        result.rows.append(_row(row, number, seen))
    return result


def _row(row: dict[str, str], line: int, seen: dict[str, int]) -> ImportRow:
    kind = (row.get("kind") or "").strip().lower()
    if kind not in KINDS:
        raise RowError(line, "kind", f"{kind!r} is not one of {', '.join(KINDS)}.")
    symbol = (row.get("symbol") or "").strip().upper()
    amount = read_decimal(row.get("amount"), line, "amount")
    price = read_decimal(row.get("price"), line, "price", required=False)
    fee = read_decimal(row.get("fee"), line, "fee", required=False)
    total = read_decimal(row.get("total"), line, "total", required=False)
    when = read_time(row.get("executed_at"), line, "executed_at")
    note = (row.get("note") or "").strip()
    import_id = (row.get("import_id") or "").strip()
    if not import_id:
        import_id = make_row_id(
            "generic",
            when.isoformat(),
            kind,
            symbol,
            amount,
            price,
            fee,
            total,
            note,
            seen=seen,
        )
    return ImportRow(
        line=line,
        kind=kind,
        symbol=symbol,
        amount=amount,
        executed_at=when,
        price=price,
        fee=fee if fee is not None else 0,
        total=total,
        note=note,
        import_id=import_id,
        columns={name: name for name in COLUMNS},
    )


def export(transactions: Iterable) -> str:
    """The generic CSV of ``transactions`` (oldest first, exact decimals)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(COLUMNS)
    for t in transactions:
        writer.writerow(
            [
                t.executed_at.isoformat(),
                t.kind,
                t.symbol,
                decimal_str(t.amount),
                decimal_str(t.price) or "",
                decimal_str(t.fee) or "0",
                decimal_str(t.total) or "",
                t.note,
                t.import_id,
            ]
        )
    return out.getvalue()
