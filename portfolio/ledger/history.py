"""Value over time from the transactions and stored candles (pure functions).

A point sits at the close of one candle slot (its ``open_time + step``): the
amounts held then (every entry executed before that moment) times each
symbol's close of that slot. Performance is net of deposits and withdrawals,
the simple money-weighted way Ghostfolio calls "net performance":

* ``net_invested`` = money put in minus money taken out so far: a buy adds
  its cost (amount x price + fee), a sell subtracts its proceeds (amount x
  price - fee), a transfer_in adds the assets' value when they arrived (its
  price if stated, else the market close of that day), a transfer_out
  subtracts their value when they left;
* ``performance`` = ``value`` - ``net_invested``: a new buy changes value and
  net_invested alike, so it is not a gain; a sell turns assets into proceeds
  that left the portfolio, so it is not a loss.

Gaps are gaps: a slot where a held symbol has no stored close is a point
with ``value`` None and the symbols it ``missing``; nothing is interpolated.
All arithmetic is Decimal in the ledger's wide context (exact).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from .lots import BUY, SELL, TRANSFER_IN, WIDE, ZERO, Entry

__all__ = [
    "Point",
    "Summary",
    "floor_time",
    "slot_opens",
    "value_history",
    "summarize",
]

#: symbol -> {candle open_time: (close, source)}
Closes = Mapping[str, Mapping[datetime, tuple[Decimal, str]]]
#: A transfer without a price: the market value per unit when it happened.
TransferPrice = Callable[[Entry], Decimal | None]


@dataclass(frozen=True)
class Point:
    """The portfolio at one moment; ``value`` None: no market data then."""

    timestamp: datetime
    value: Decimal | None
    net_invested: Decimal | None
    performance: Decimal | None
    source: str | None
    missing: tuple[str, ...] = ()


@dataclass(frozen=True)
class Summary:
    """From the first to the last priced point of a range."""

    start: datetime
    end: datetime
    value_start: Decimal
    value_end: Decimal
    net_flows: Decimal | None
    performance: Decimal | None


def floor_time(moment: datetime, step: timedelta) -> datetime:
    """The start of the UTC hour or day (``step``) holding ``moment``."""
    moment = moment.astimezone(UTC)
    if step >= timedelta(days=1):
        return moment.replace(hour=0, minute=0, second=0, microsecond=0)
    return moment.replace(minute=0, second=0, microsecond=0)


def slot_opens(start: datetime, now: datetime, step: timedelta) -> list[datetime]:
    """Open times of the closed slots from the one holding ``start`` on."""
    first = floor_time(start, step)
    last = floor_time(now, step) - step
    count = max(0, int((last - first) / step) + 1)
    return [first + step * i for i in range(count)]


def _flow(entry: Entry, transfer_price: TransferPrice) -> Decimal | None:
    """Money in (+) or out (-) of the portfolio by this entry; None: unknown."""
    gross = entry.gross
    if entry.kind in (BUY, SELL):
        signed_fee = entry.fee if entry.kind == BUY else -entry.fee
        amount = WIDE.add(gross, signed_fee)
    else:
        if gross is None:
            unit = transfer_price(entry)
            if unit is None:
                return None
            gross = WIDE.multiply(entry.amount, unit)
        amount = gross
    return amount if entry.kind in (BUY, TRANSFER_IN) else -amount


def _value(
    held: Mapping[str, Decimal], closes: Closes, slot: datetime
) -> tuple[Decimal | None, str | None, tuple[str, ...]]:
    total, sources, missing = ZERO, set(), []
    for symbol, amount in sorted(held.items()):
        if amount == 0:
            continue
        close = closes.get(symbol, {}).get(slot)
        if close is None:
            missing.append(symbol)
            continue
        total = WIDE.add(total, WIDE.multiply(amount, close[0]))
        sources.add(close[1])
    if missing:
        return None, None, tuple(missing)
    return total, "+".join(sorted(sources)) or "ledger", ()


def value_history(
    entries: Iterable[Entry],
    closes: Closes,
    *,
    opens: Sequence[datetime],
    step: timedelta,
    transfer_price: TransferPrice = lambda entry: None,
) -> list[Point]:
    """One :class:`Point` per slot in ``opens`` (ascending)."""
    pending = sorted(entries, key=lambda e: (e.executed_at, e.seq))
    held: dict[str, Decimal] = {}
    invested: Decimal | None = ZERO
    index, points = 0, []
    for slot in opens:
        moment = slot + step
        while index < len(pending) and pending[index].executed_at < moment:
            entry = pending[index]
            sign = 1 if entry.kind in (BUY, TRANSFER_IN) else -1
            change = entry.amount if sign > 0 else -entry.amount
            held[entry.symbol] = WIDE.add(held.get(entry.symbol, ZERO), change)
            flow = _flow(entry, transfer_price)
            invested = None if None in (invested, flow) else WIDE.add(invested, flow)
            index += 1
        value, source, missing = _value(held, closes, slot)
        performance = None
        if value is not None and invested is not None:
            performance = WIDE.subtract(value, invested)
        points.append(Point(moment, value, invested, performance, source, missing))
    return points


def summarize(points: Sequence[Point]) -> Summary | None:
    """Change over the range between its first and last priced points."""
    priced = [p for p in points if p.value is not None]
    if not priced:
        return None
    first, last = priced[0], priced[-1]
    flows = performance = None
    if first.net_invested is not None and last.net_invested is not None:
        flows = WIDE.subtract(last.net_invested, first.net_invested)
        performance = WIDE.subtract(WIDE.subtract(last.value, first.value), flows)
    return Summary(
        first.timestamp, last.timestamp, first.value, last.value, flows, performance
    )
