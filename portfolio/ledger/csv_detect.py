"""Which CSV format a file is, and its parse: generic, Coinbase or Binance."""

from __future__ import annotations

import csv
import io

from . import csv_binance, csv_coinbase, csv_generic
from .csv_common import FormatError, ParseResult

__all__ = ["FORMATS", "decode", "parse"]

FORMATS = ("generic", "coinbase", "binance")


def decode(content: bytes) -> str:
    try:
        return content.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise FormatError("The file is not UTF-8 text; export it as CSV.") from None


def detect(text: str) -> str:
    lines = text.splitlines()
    if csv_coinbase.find_header(lines) is not None:
        return "coinbase"
    first = next((line for line in lines if line.strip()), "")
    header = next(csv.reader(io.StringIO(first)), [])
    if csv_binance.matches(header):
        return "binance"
    if csv_generic.matches(header):
        return "generic"
    raise FormatError(
        "Unrecognized file: expected the generic ledger CSV (header "
        f"{','.join(csv_generic.COLUMNS)}), a Coinbase transaction history or a "
        "Binance trade history export."
    )


def parse(text: str, format: str | None = None) -> ParseResult:
    """Parse ``text`` in ``format`` (detected when None)."""
    name = format or detect(text)
    if name == "coinbase":
        return csv_coinbase.parse(text)
    text = "\n".join(line for line in text.splitlines() if line.strip())
    if name == "binance":
        return csv_binance.parse(text)
    return csv_generic.parse(text)
