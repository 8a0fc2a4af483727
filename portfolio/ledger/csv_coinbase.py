r"""Coinbase's transaction-history CSV, both variants.

Older::

    You can use this transaction report to inform your likely tax obligations...
    Transactions
    User,alice@example.com,5f3c...
    Timestamp,Transaction Type,Asset,Quantity Transacted,Spot Price Currency,\
    Spot Price at Transaction,Subtotal,Total (inclusive of fees and/or spread),\
    Fees and/or Spread,Notes
    2021-01-05T14:22:10Z,Buy,BTC,0.0125,USD,33950.12,424.38,430.00,5.62,\
    Bought 0.0125 BTC for $430.00 USD

(one line each; wrapped here).

Newer: an ``ID`` column first, ``Price Currency``/``Price at Transaction``,
``$``-prefixed amounts, ``2024-01-02 10:00:00 UTC`` times, negative
quantities for outflows. A buy costs Subtotal + Fees, a sell yields
Subtotal - Fees. Every type is mapped, skipped with a reason (cash moves), or
refused as a row error; none is dropped silently.
"""

from __future__ import annotations

import csv
import decimal
import io
import re
from decimal import Decimal

from .csv_common import ImportRow, ParseResult, RowError, read_decimal, read_time
from .csv_common import row_id as make_row_id

__all__ = ["find_header", "parse", "TYPES"]

BUYS = {"buy", "advanced trade buy"}
SELLS = {"sell", "advanced trade sell"}
OUT = {"send", "withdrawal", "withdraw"}
IN_UNKNOWN_COST = {"receive", "deposit"}
# Income: a new lot at the spot price of the day.
INCOME = {
    "rewards income",
    "staking income",
    "learning reward",
    "coinbase earn",
    "inflation reward",
    "reward income",
    "staking reward",
}
CONVERT = {"convert"}
TYPES = BUYS | SELLS | OUT | IN_UNKNOWN_COST | INCOME | CONVERT
FIAT = {"USD", "EUR", "GBP"}
CONVERT_RE = re.compile(
    r"Converted\s+([\d.,]+)\s+([A-Z0-9]+)\s+to\s+([\d.,]+)\s+([A-Z0-9]+)"
)
QUANTITY = "Quantity Transacted"
QUANTUM = Decimal("1e-18")
WIDE = decimal.Context(prec=120, rounding=decimal.ROUND_HALF_EVEN)


def find_header(lines: list[str]) -> int | None:
    """Index of the header line after Coinbase's preamble (None if absent)."""
    for index, line in enumerate(lines[:50]):
        head = line.lstrip("\ufeff").strip()
        if head.startswith("Timestamp,Transaction Type") or head.startswith(
            "ID,Timestamp,Transaction Type"
        ):
            return index
    return None


def parse(text: str) -> ParseResult:
    lines = text.splitlines()
    start = find_header(lines)
    result = ParseResult(format="coinbase")
    reader = csv.reader(io.StringIO("\n".join(lines[start:])))
    header = [h.strip() for h in next(reader)]
    price_col = (
        "Spot Price at Transaction"
        if "Spot Price at Transaction" in header
        else "Price at Transaction"
    )
    currency_col = (
        "Spot Price Currency" if "Spot Price Currency" in header else "Price Currency"
    )
    seen: dict[str, int] = {}
    for offset, cells in enumerate(reader):
        line = start + 2 + offset
        if not any(c.strip() for c in cells):
            continue
        row = dict(zip(header, cells, strict=False))
        _row(result, row, line, price_col, currency_col, seen)
    return result


def _row(
    result: ParseResult,
    row: dict[str, str],
    line: int,
    price_col: str,
    currency_col: str,
    seen: dict[str, int],
) -> None:
    kind = (row.get("Transaction Type") or "").strip()
    asset = (row.get("Asset") or "").strip().upper()
    key = kind.lower()
    if key not in TYPES:
        raise RowError(
            line,
            "Transaction Type",
            f"{kind!r} is a Coinbase transaction type this import does not know; "
            "enter it by hand or remove the row.",
        )
    if asset in FIAT:
        result.skip(line, f"{kind} of {asset} is a cash movement, not an asset.")
        return
    currency = (row.get(currency_col) or "USD").strip().upper()
    if currency != "USD":
        raise RowError(
            line, currency_col, f"only USD prices are supported, not {currency}."
        )
    quantity = abs(read_decimal(row.get(QUANTITY), line, QUANTITY, signed=True))
    spot = read_decimal(row.get(price_col), line, price_col, required=False)
    subtotal = read_decimal(
        row.get("Subtotal"), line, "Subtotal", required=False, signed=True
    )
    fees = read_decimal(
        row.get("Fees and/or Spread"),
        line,
        "Fees and/or Spread",
        required=False,
        signed=True,
    )
    subtotal = None if subtotal is None else abs(subtotal)
    fees = abs(fees) if fees is not None else 0
    when = read_time(row.get("Timestamp"), line, "Timestamp")
    note = (row.get("Notes") or "").strip()
    ident = (row.get("ID") or "").strip()
    base_id = (
        f"coinbase-{ident}"
        if ident
        else make_row_id("coinbase", *(row.get(h, "") for h in sorted(row)), seen=seen)
    )
    columns = {
        "amount": QUANTITY,
        "price": price_col,
        "total": "Subtotal",
        "fee": "Fees and/or Spread",
        "symbol": "Asset",
        "executed_at": "Timestamp",
    }

    def add(kind_: str, symbol: str, amount, price=None, total=None, fee=0, suffix=""):
        result.rows.append(
            ImportRow(
                line=line,
                kind=kind_,
                symbol=symbol,
                amount=amount,
                executed_at=when,
                price=price,
                fee=fee,
                total=total,
                note=note[:300],
                import_id=base_id + suffix,
                columns=columns,
            )
        )

    if key in BUYS:
        add("buy", asset, quantity, _needed(spot, line, price_col), subtotal, fees)
    elif key in SELLS:
        add("sell", asset, quantity, _needed(spot, line, price_col), subtotal, fees)
    elif key in OUT:
        add("transfer_out", asset, quantity)
    elif key in IN_UNKNOWN_COST:
        add("transfer_in", asset, quantity)
    elif key in INCOME:
        add("transfer_in", asset, quantity, spot)
    else:
        _convert(add, asset, quantity, spot, subtotal, fees, note, line, price_col)


def _needed(value, line: int, column: str):
    if value is None:
        raise RowError(line, column, "is empty; a buy or sell needs a price.")
    return value


def _convert(add, asset, quantity, spot, subtotal, fees, note, line, price_col) -> None:
    """``Converted 0.5 ETH to 0.02 BTC``: a sell of the first (Subtotal - Fees),
    a buy of the second costing exactly those proceeds (the fee counted once)."""
    match = CONVERT_RE.search(note)
    if not match:
        raise RowError(
            line,
            "Notes",
            "a Convert needs 'Converted <amount> <asset> to <amount> "
            f"<asset>' in its notes; got {note!r}.",
        )
    target_amount = read_decimal(match.group(3), line, "Notes")
    target = match.group(4).upper()
    price = _needed(spot, line, price_col)
    with decimal.localcontext(WIDE):
        value = subtotal if subtotal is not None else quantity * price
        proceeds = value - fees
        target_price = (proceeds / target_amount).quantize(QUANTUM)
    add("sell", asset, quantity, price, value, fees, suffix="-out")
    add("buy", target, target_amount, target_price, proceeds, 0, suffix="-in")
