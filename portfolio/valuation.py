"""Portfolio valuation as pure functions, so the API, the monitor and the worker agree.

Nothing here touches the database or the cache: callers pass the holdings, the
latest price dicts (``streaming.price_cache`` format, decimals as strings) and
the current time. Arithmetic is exact ``Decimal`` (a wide local context, so
products of 34-digit amounts never round); only the output is formatted:
amounts, prices and values as exact fixed-point strings (normalized, never
exponent notation), percentages quantized to 4 decimal places, datetimes as
ISO-8601. A holding without a usable price is reported with ``price``/``value``
null, listed in ``unpriced`` and left out of every total.
"""

from __future__ import annotations

import decimal
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

__all__ = [
    "Position",
    "decimal_str",
    "percent_str",
    "parse_decimal",
    "price_age_seconds",
    "price_status",
    "portfolio_summary",
    "price_entry",
    "provenance",
]

HUNDRED = Decimal(100)
UNIT_QUANTUM = Decimal("1e-18")
PERCENT_QUANTUM = Decimal("0.0001")
AGE_QUANTUM = Decimal("0.001")
# Enough digits for any product/sum of 34-digit amounts and prices.
WIDE_CONTEXT = decimal.Context(prec=120, rounding=decimal.ROUND_HALF_EVEN)


@dataclass(frozen=True)
class Position:
    """One holding as the valuation sees it (a ``Holding`` row also fits)."""

    symbol: str
    amount: Decimal
    cost_basis: Decimal | None = None
    #: From the ledger (None for callers without one). A position with amount 0
    #: is closed: not a row, but its realized P/L counts in the totals.
    realized_pl: Decimal | None = None
    #: Units held in lots of unknown cost: outside cost basis and P/L.
    unknown_cost_amount: Decimal | None = None


def decimal_str(value: Decimal | None) -> str | None:
    """Exact fixed-point string without trailing zeros or exponent ("1000", "0.5")."""
    if value is None:
        return None
    if value == 0:
        return "0"
    return format(value.normalize(WIDE_CONTEXT), "f")


def percent_str(value: Decimal | None) -> str | None:
    """Percentage rounded half-even to 4 decimal places ("12.3400")."""
    if value is None:
        return None
    quantized = value.quantize(PERCENT_QUANTUM, context=WIDE_CONTEXT)
    if quantized == 0:
        quantized = abs(quantized)  # never "-0.0000"
    return format(quantized, "f")


def parse_decimal(value: Any) -> Decimal | None:
    """A finite Decimal from a price-dict field, else None.

    Strings, ints and Decimals are exact; a float (e.g. a feed's
    ``change_percent_24h``) is taken by its shortest repr, never its binary value.
    """
    if value is None or isinstance(value, bool):
        return None
    try:
        result = value if isinstance(value, Decimal) else Decimal(str(value))
    except (decimal.InvalidOperation, ValueError):
        return None
    return result if result.is_finite() else None


def _parse_timestamp(value: Any) -> datetime | None:
    if isinstance(value, datetime):
        return value if value.tzinfo else None
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed if parsed.tzinfo else None


def _seconds(value: float | int | Decimal | timedelta) -> Decimal:
    if isinstance(value, timedelta):
        value = value.total_seconds()
    return Decimal(str(value))


def _iso(value: Any) -> Any:
    return value.isoformat() if isinstance(value, datetime) else value


def price_age_seconds(price: Mapping[str, Any], now: datetime) -> Decimal | None:
    """Seconds since the exchange event time (None if unknown; never negative)."""
    timestamp = _parse_timestamp(price.get("timestamp"))
    if timestamp is None:
        return None
    age = Decimal(str((now - timestamp).total_seconds()))
    return max(age, Decimal(0))


def price_status(
    price: Mapping[str, Any],
    *,
    now: datetime,
    stale_after: float | int | Decimal | timedelta,
) -> dict[str, Any]:
    """Source, quote currency, event time, age, stale and simulated flags of a price."""
    age = price_age_seconds(price, now)
    stale = age is None or age > _seconds(stale_after)
    source = price.get("source")
    return {
        "source": source,
        # Older cached dicts predate the field: they were all USD-labelled.
        "quote": price.get("quote") or "USD",
        # The worker's prices carry a datetime (the bus's data), cached ones text.
        "price_timestamp": _iso(price.get("timestamp")),
        "age_seconds": None if age is None else format(age.quantize(AGE_QUANTUM), "f"),
        "stale": stale,
        "simulated": source == "mock",
    }


def _field(holding: Any, name: str) -> Any:
    if isinstance(holding, Mapping):
        return holding.get(name)
    return getattr(holding, name, None)


def _ratio_percent(part: Decimal, whole: Decimal) -> Decimal | None:
    if whole == 0:
        return None
    return WIDE_CONTEXT.divide(part * HUNDRED, whole)


def _value_holding(
    holding: Any, price: Mapping[str, Any] | None, now: datetime, stale_after: Any
) -> dict[str, Any]:
    """Exact (Decimal) figures for one holding; value None when unpriced."""
    amount = parse_decimal(_field(holding, "amount"))
    cost_basis = parse_decimal(_field(holding, "cost_basis"))
    if amount is None:
        raise ValueError(f"Holding {_field(holding, 'symbol')!r} has no valid amount.")
    unknown = parse_decimal(_field(holding, "unknown_cost_amount")) or Decimal(0)
    known_amount = amount - unknown
    row: dict[str, Any] = {
        "symbol": _field(holding, "symbol"),
        "amount": amount,
        "cost_basis": cost_basis,
        "average_cost": _average_cost(cost_basis, known_amount),
        "realized_pl": parse_decimal(_field(holding, "realized_pl")),
        "unknown_cost_amount": unknown,
        "price": None,
        "value": None,
        "change_24h": None,
        "change_percent_24h": None,
        "unrealized_pl": None,
        "unrealized_pl_percent": None,
        "source": None,
        "quote": None,
        "price_timestamp": None,
        "age_seconds": None,
        "stale": None,
        "simulated": None,
    }
    unit_price = parse_decimal(price.get("price")) if price else None
    if unit_price is None or unit_price < 0:
        return row
    value = WIDE_CONTEXT.multiply(amount, unit_price)
    row.update(price=unit_price, value=value)
    row.update(price_status(price, now=now, stale_after=stale_after))
    unit_change = parse_decimal(price.get("change_24h"))
    if unit_change is not None:
        change = WIDE_CONTEXT.multiply(amount, unit_change)
        row["change_24h"] = change
        row["change_percent_24h"] = _ratio_percent(change, value - change)
    if cost_basis is not None:
        # Lots of unknown cost are left out of P/L: only the known units count
        # (with none unknown this is exactly value - cost_basis).
        known_value = (
            value if not unknown else WIDE_CONTEXT.multiply(known_amount, unit_price)
        )
        row["unrealized_pl"] = known_value - cost_basis
        row["unrealized_pl_percent"] = _ratio_percent(
            known_value - cost_basis, cost_basis
        )
    return row


def _average_cost(cost_basis: Decimal | None, amount: Decimal) -> Decimal | None:
    """Cost per unit of the known-cost units, rounded half-even to 18 decimals."""
    if cost_basis is None or amount <= 0:
        return None
    return WIDE_CONTEXT.divide(cost_basis, amount).quantize(
        UNIT_QUANTUM, context=WIDE_CONTEXT
    )


def _realized_total(holdings: list[Any]) -> Decimal | None:
    """Realized P/L of every position, open or closed (None without a ledger)."""
    values = [parse_decimal(_field(h, "realized_pl")) for h in holdings]
    known = [v for v in values if v is not None]
    if not known:
        return None
    with decimal.localcontext(WIDE_CONTEXT):
        return sum(known, Decimal(0))


def _closed(holding: Any) -> bool:
    """A ledger position sold or sent out entirely (kept for its realized P/L)."""
    return parse_decimal(_field(holding, "amount")) == 0


def _totals(rows: list[dict[str, Any]]) -> dict[str, Any]:
    priced = [r for r in rows if r["value"] is not None]
    with_change = [r for r in priced if r["change_24h"] is not None]
    with_cost = [r for r in priced if r["cost_basis"] is not None]
    value = sum((r["value"] for r in priced), Decimal(0))
    change = sum((r["change_24h"] for r in with_change), Decimal(0))
    previous = sum((r["value"] - r["change_24h"] for r in with_change), Decimal(0))
    cost = sum((r["cost_basis"] for r in with_cost), Decimal(0))
    pl = sum((r["unrealized_pl"] for r in with_cost), Decimal(0))
    return {
        "value": value,
        "change_24h": change if with_change else None,
        "change_percent_24h": _ratio_percent(change, previous) if with_change else None,
        "cost_basis": cost if with_cost else None,
        "unrealized_pl": pl if with_cost else None,
        "unrealized_pl_percent": _ratio_percent(pl, cost) if with_cost else None,
        "holding_count": len(rows),
        "priced_count": len(priced),
        "unpriced_count": len(rows) - len(priced),
        "stale_count": sum(1 for r in priced if r["stale"]),
        **provenance(priced),
    }


def provenance(priced: list[dict[str, Any]]) -> dict[str, Any]:
    """Where a total's prices came from: ``simulated`` when ANY was simulated
    (a total resting on one invented price is not market data), and
    ``sources`` ``{source: holdings priced by it}``."""
    sources: dict[str, int] = {}
    for row in priced:
        name = row["source"] or "unknown"
        sources[name] = sources.get(name, 0) + 1
    return {
        "simulated": any(r["simulated"] for r in priced),
        "sources": dict(sorted(sources.items())),
    }


_VALUE_KEYS = (
    "amount",
    "cost_basis",
    "price",
    "value",
    "change_24h",
    "unrealized_pl",
    "average_cost",
    "realized_pl",
    "unknown_cost_amount",
)
_PERCENT_KEYS = ("change_percent_24h", "unrealized_pl_percent", "allocation_percent")


def _to_json(row: dict[str, Any]) -> dict[str, Any]:
    out = dict(row)
    for key in _VALUE_KEYS:
        if key in out:
            out[key] = decimal_str(out[key])
    for key in _PERCENT_KEYS:
        if key in out:
            out[key] = percent_str(out[key])
    return out


def portfolio_summary(
    *,
    holdings: Iterable[Any],
    prices: Mapping[str, Mapping[str, Any]],
    now: datetime,
    stale_after: float | int | Decimal | timedelta,
) -> dict[str, Any]:
    """The JSON-safe portfolio summary: per holding, totals, unpriced symbols.

    ``holdings``: objects or mappings with ``symbol``, ``amount`` and
    ``cost_basis`` (``Position``, ``Holding`` rows, dicts). ``prices``:
    ``{symbol: price_dict}``. ``stale_after``: seconds (or a timedelta).
    """
    holdings = list(holdings)
    # Every difference and sum below in the wide context: 18-decimal amounts
    # times prices need more than the default 28 digits (STYLE.md §17).
    with decimal.localcontext(WIDE_CONTEXT):
        rows = [
            _value_holding(h, prices.get(_field(h, "symbol")), now, stale_after)
            for h in holdings
            if not _closed(h)
        ]
        rows.sort(key=lambda r: r["symbol"])
        totals = _totals(rows)
        totals["realized_pl"] = _realized_total(holdings)
        for row in rows:
            row["allocation_percent"] = (
                None
                if row["value"] is None
                else _ratio_percent(row["value"], totals["value"])
            )
    return {
        "as_of": now.isoformat(),
        "stale_after_seconds": decimal_str(_seconds(stale_after)),
        "holdings": [_to_json(r) for r in rows],
        "unpriced": [r["symbol"] for r in rows if r["value"] is None],
        "totals": _to_json(totals),
    }


def price_entry(
    symbol: str,
    price: Mapping[str, Any] | None,
    *,
    now: datetime,
    stale_after: float | int | Decimal | timedelta,
) -> dict[str, Any]:
    """One symbol's latest price for display (all null when not priced yet)."""
    entry: dict[str, Any] = {"symbol": symbol}
    for key in ("price", "change_24h", "volume_24h"):
        entry[key] = decimal_str(parse_decimal(price.get(key))) if price else None
    change_pct = parse_decimal(price.get("change_percent_24h")) if price else None
    entry["change_percent_24h"] = percent_str(change_pct)
    if price is None or entry["price"] is None:
        entry.update(
            source=None,
            quote=None,
            price_timestamp=None,
            age_seconds=None,
            stale=None,
            simulated=None,
        )
    else:
        entry.update(price_status(price, now=now, stale_after=stale_after))
    return entry
