"""Binance's spot trade-history export.

::

    Date(UTC),Pair,Side,Price,Executed,Amount,Fee
    2024-01-03 09:15:02,BTCUSDT,BUY,42000.5,0.00150000BTC,63.00075000USDT,0.00000150BTC

``Executed`` is in the base asset, ``Amount`` in the quote, ``Fee`` in
whatever asset Binance charged. Quotes in USD or a USD stablecoin are valued
1:1 in USD. A fee in the base asset of a buy reduces the units received; in
the quote it is the USD fee; in the base asset of a sell it is valued at the
trade price; in any other asset (BNB) it cannot be valued here: recorded as
0 with a warning and a note. A pair without a USD quote (ETHBTC) is skipped
with its reason.
"""

from __future__ import annotations

import csv
import decimal
import io
import re
from decimal import Decimal

from .csv_common import ImportRow, ParseResult, RowError, read_decimal, read_time
from .csv_common import row_id as make_row_id

__all__ = ["HEADER", "matches", "parse"]

HEADER = ("Date(UTC)", "Pair", "Side", "Price", "Executed", "Amount", "Fee")
USD_QUOTES = ("FDUSD", "USDT", "USDC", "BUSD", "TUSD", "USD")
UNIT_RE = re.compile(r"^\s*([\d.,]+)\s*([A-Z][A-Z0-9]*)\s*$")
WIDE = decimal.Context(prec=120, rounding=decimal.ROUND_HALF_EVEN)


def matches(header: list[str]) -> bool:
    return tuple(h.strip() for h in header[:3]) == HEADER[:3]


def _split(raw: str, line: int, column: str) -> tuple[Decimal, str]:
    match = UNIT_RE.match(raw or "")
    if not match:
        raise RowError(
            line,
            column,
            f"{(raw or '').strip()!r} is not an amount with its unit (e.g. 0.0015BTC).",
        )
    return read_decimal(match.group(1), line, column), match.group(2)


def _base_of(pair: str) -> tuple[str, str] | None:
    for quote in USD_QUOTES:
        if pair.endswith(quote) and len(pair) > len(quote):
            return pair[: -len(quote)], quote
    return None


def parse(text: str) -> ParseResult:
    result = ParseResult(format="binance")
    reader = csv.reader(io.StringIO(text.lstrip("\ufeff")))
    header = [h.strip() for h in next(reader)]
    seen: dict[str, int] = {}
    for line, cells in enumerate(reader, start=2):
        if not any(c.strip() for c in cells):
            continue
        _row(result, dict(zip(header, cells, strict=False)), line, seen)
    return result


def _row(result: ParseResult, row: dict[str, str], line: int, seen) -> None:
    pair = (row.get("Pair") or "").strip().upper()
    split = _base_of(pair)
    if split is None:
        result.skip(line, f"{pair} has no USD quote; enter it as a sell and a buy.")
        return
    base, quote = split
    side = (row.get("Side") or "").strip().upper()
    if side not in ("BUY", "SELL"):
        raise RowError(line, "Side", f"{side!r} is neither BUY nor SELL.")
    price = read_decimal(row.get("Price"), line, "Price")
    executed, executed_unit = _split(row.get("Executed"), line, "Executed")
    amount, amount_unit = _split(row.get("Amount"), line, "Amount")
    fee, fee_unit = _split(row.get("Fee"), line, "Fee")
    if executed_unit != base:
        raise RowError(line, "Executed", f"is in {executed_unit}, expected {base}.")
    if amount_unit != quote:
        raise RowError(line, "Amount", f"is in {amount_unit}, expected {quote}.")
    when = read_time(row.get("Date(UTC)"), line, "Date(UTC)")
    units, fee_usd, note = executed, Decimal(0), f"Binance {pair} {side}"
    with decimal.localcontext(WIDE):
        if fee_unit == quote:
            fee_usd = fee
        elif fee_unit == base and side == "BUY":
            units = executed - fee  # the fee came out of what was bought
        elif fee_unit == base:
            fee_usd = fee * price
        elif fee:
            note += f"; fee {fee.normalize():f} {fee_unit} not counted"
            result.warn(
                line, f"Fee in {fee_unit} cannot be valued in USD; not counted."
            )
    result.rows.append(
        ImportRow(
            line=line,
            kind="buy" if side == "BUY" else "sell",
            symbol=base,
            amount=units,
            executed_at=when,
            price=price,
            fee=fee_usd,
            total=amount,
            note=note,
            import_id=make_row_id(
                "binance", *(row.get(h, "").strip() for h in HEADER), seen=seen
            ),
            columns={
                "amount": "Executed",
                "price": "Price",
                "total": "Amount",
                "fee": "Fee",
                "symbol": "Pair",
                "executed_at": "Date(UTC)",
            },
        )
    )
