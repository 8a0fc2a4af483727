"""The value and price histories the API serves: fill candles, read, compute.

Ranges of a day or more are drawn from the ledger and stored candles (hourly
for 24h and 7d, daily beyond), from the first transaction's slot on; the 1h
range (and a user without transactions) keeps the live snapshots. Missing
candles are fetched first when the exchanges are reachable
(``services.candles_fill``, bounded); offline, the points are gaps and the
answer says it has no market data.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from django.contrib.auth.models import AbstractBaseUser

from streaming.feeds.candles import INTERVALS

from ..history import downsample
from ..ledger import history, lots
from ..ledger import selectors as ledger_selectors
from ..valuation import decimal_str
from . import selectors, services

__all__ = ["PLANS", "MAX_POINTS", "portfolio_history", "price_history"]

#: range -> (candle interval, span; None: since the first transaction)
PLANS: dict[str, tuple[str, timedelta | None]] = {
    "1h": ("1h", timedelta(hours=1)),
    "24h": ("1h", timedelta(hours=24)),
    "7d": ("1h", timedelta(days=7)),
    "30d": ("1d", timedelta(days=30)),
    "1y": ("1d", timedelta(days=365)),
    "all": ("1d", None),
}
MAX_POINTS = 400
NO_MARKET_DATA = (
    "No market data for this range: no candles are stored and the exchanges "
    "could not be reached. Nothing is drawn rather than an invented value."
)
SOME_GAPS = "Some points have no market data (gaps are left empty)."


def _held_in_range(entries: Sequence[lots.Entry], start: datetime) -> list[str]:
    """Symbols held at ``start`` or moved after it (the ones needing prices)."""
    held: dict[str, Decimal] = {}
    moved: set[str] = set()
    for entry in entries:
        if entry.executed_at >= start:
            moved.add(entry.symbol)
            continue
        sign = 1 if entry.kind in (lots.BUY, lots.TRANSFER_IN) else -1
        held[entry.symbol] = lots.WIDE.add(
            held.get(entry.symbol, lots.ZERO), sign * entry.amount
        )
    return sorted(moved | {s for s, amount in held.items() if amount != 0})


def _fill(symbols: Iterable[str], interval: str, start: datetime, now: datetime):
    for symbol in symbols:
        services.candles_fill(symbol=symbol, interval=interval, start=start, now=now)


def _transfer_prices(entries: Sequence[lots.Entry], now: datetime):
    """Daily closes for transfers without a price (their value on arrival)."""
    unpriced = [e for e in entries if e.kind not in (lots.BUY, lots.SELL)]
    unpriced = [e for e in unpriced if e.gross is None]
    if not unpriced:
        return lambda entry: None
    day = INTERVALS["1d"]
    first = min(e.executed_at for e in unpriced)
    symbols = sorted({e.symbol for e in unpriced})
    _fill(symbols, "1d", first, now)
    closes = selectors.candle_closes(
        symbols=symbols, interval="1d", start=history.floor_time(first, day), end=now
    )

    def price(entry: lots.Entry) -> Decimal | None:
        found = closes.get(entry.symbol, {}).get(
            history.floor_time(entry.executed_at, day)
        )
        return None if found is None else found[0]

    return price


def _window(name: str, first: datetime, now: datetime) -> tuple[str, datetime]:
    interval, span = PLANS[name]
    start = first if span is None else max(now - span, first)
    return interval, start


def _point(point: history.Point) -> dict[str, Any]:
    return {
        "timestamp": point.timestamp.isoformat(),
        "value": decimal_str(point.value),
        "simulated": False,
        "source": point.source,
        "net_invested": decimal_str(point.net_invested),
        "performance": decimal_str(point.performance),
        "missing": list(point.missing),
    }


def _summary(summary: history.Summary | None) -> dict[str, Any] | None:
    if summary is None:
        return None
    return {
        "start": summary.start.isoformat(),
        "end": summary.end.isoformat(),
        "value_start": decimal_str(summary.value_start),
        "value_end": decimal_str(summary.value_end),
        "net_flows": decimal_str(summary.net_flows),
        "performance": decimal_str(summary.performance),
    }


def _note(points: Sequence[Any], value_key: str) -> tuple[bool, str | None]:
    priced = sum(1 for p in points if p[value_key] is not None)
    if points and not priced:
        return False, NO_MARKET_DATA
    return bool(priced), SOME_GAPS if priced < len(points) else None


def portfolio_history(
    *, owner: AbstractBaseUser, name: str, now: datetime
) -> dict[str, Any] | None:
    """The ledger-based history of range ``name``; None: use the snapshots."""
    entries = ledger_selectors.entries(owner=owner)
    if name == "1h" or not entries:
        return None
    interval, start = _window(name, entries[0].executed_at, now)
    step = INTERVALS[interval]
    symbols = _held_in_range(entries, start)
    _fill(symbols, interval, start, now)
    opens = history.slot_opens(start, now, step)
    closes = selectors.candle_closes(
        symbols=symbols, interval=interval, start=opens[0] if opens else now, end=now
    )
    points = history.value_history(
        entries,
        closes,
        opens=opens,
        step=step,
        transfer_price=_transfer_prices(entries, now),
    )
    kept = downsample(
        [(p.timestamp, p) for p in points], start=start, end=now, max_points=MAX_POINTS
    )
    shown = [_point(p) for _, p in kept]
    market_data, note = _note(shown, "value")
    return {
        "range": name,
        "start": (opens[0] if opens else start).isoformat(),
        "end": now.isoformat(),
        "basis": "ledger",
        "interval": interval,
        "market_data": market_data,
        "note": note,
        "summary": _summary(history.summarize(points)),
        "points": shown,
    }


def price_history(
    *, owner: AbstractBaseUser, symbol: str, name: str, now: datetime
) -> dict[str, Any]:
    """Closes of ``symbol`` over range ``name`` (``all``: since its first entry)."""
    entries = ledger_selectors.entries(owner=owner, symbols=[symbol])
    first = entries[0].executed_at if entries else now - PLANS["1y"][1]
    interval, span = PLANS[name]
    start = first if span is None else now - span
    step = INTERVALS[interval]
    services.candles_fill(symbol=symbol, interval=interval, start=start, now=now)
    opens = history.slot_opens(start, now, step)
    closes = selectors.candle_closes(
        symbols=[symbol], interval=interval, start=start - step, end=now
    ).get(symbol, {})
    points = []
    for slot in opens:
        close, source = closes.get(slot, (None, None))
        points.append(
            {
                "timestamp": (slot + step).isoformat(),
                "close": decimal_str(close),
                "source": source,
            }
        )
    kept = downsample(
        [(slot, p) for slot, p in zip(opens, points, strict=True)],
        start=start,
        end=now,
        max_points=MAX_POINTS,
    )
    shown = [p for _, p in kept]
    market_data, note = _note(shown, "close")
    return {
        "symbol": symbol,
        "range": name,
        "interval": interval,
        "start": (opens[0] if opens else start).isoformat(),
        "end": now.isoformat(),
        "market_data": market_data,
        "note": note,
        "points": shown,
    }
