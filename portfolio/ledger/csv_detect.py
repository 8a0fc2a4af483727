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
    """Parse ``text`` in ``format`` (detected when None).

    A format named by the user is checked against the file's header first, so
    a mismatch is a clear 400, never a crash deep in a parser.
    """
    name = format or detect(text)
    if format is not None and detect_or_none(text) != name:
        raise FormatError(
            f"This file does not look like a {name} export (its header does not "
            "match); leave the format empty to detect it, or pick the right one."
        )
    try:
        if name == "coinbase":
            return csv_coinbase.parse(text)
        text = "\n".join(line for line in text.splitlines() if line.strip())
        if name == "binance":
            return csv_binance.parse(text)
        return csv_generic.parse(text)
    except StopIteration:
        raise FormatError("The file is empty: it has no header line.") from None
    except csv.Error as exc:
        raise FormatError(f"The file is not readable as CSV ({exc}).") from None


def detect_or_none(text: str) -> str | None:
    """The detected format, or None when the file matches none."""
    try:
        return detect(text)
    except FormatError:
        return None
