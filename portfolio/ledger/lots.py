"""The lots engine: pure, exact replay of one symbol's transactions.

Entries are replayed in ``executed_at`` order (ties by ``seq``, the row id), so a
backdated buy changes which lots a later sell consumed. Arithmetic is Decimal in
a wide local context (STYLE.md §17): sums and differences of 18-decimal amounts
are exact. The only divisions are the pro-rata cost (or proceeds) of a partly
consumed lot; they are quantized to 18 decimal places and the lot keeps the
exact remainder, so cost removed + cost kept always equals cost paid.
"""

from __future__ import annotations

import decimal
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

__all__ = [
    "FIFO",
    "AVERAGE",
    "Entry",
    "Lot",
    "SymbolLedger",
    "OverdrawnError",
    "replay",
    "replay_all",
]

FIFO = "fifo"
AVERAGE = "average"
BUY, SELL, TRANSFER_IN, TRANSFER_OUT = "buy", "sell", "transfer_in", "transfer_out"
QUANTUM = Decimal("1e-18")
ZERO = Decimal(0)
WIDE = decimal.Context(
    prec=120,
    rounding=decimal.ROUND_HALF_EVEN,
    traps=[
        decimal.InvalidOperation,
        decimal.DivisionByZero,
        decimal.Overflow,
    ],
)


@dataclass(frozen=True)
class Entry:
    """One transaction as the engine sees it (amounts are positive Decimals).

    ``total`` is the gross USD value when a source states it (an exchange's
    Subtotal, a migrated cost basis); otherwise amount x price is used.
    """

    kind: str
    symbol: str
    amount: Decimal
    executed_at: datetime
    price: Decimal | None = None
    fee: Decimal = ZERO
    total: Decimal | None = None
    seq: int = 0

    @property
    def gross(self) -> Decimal | None:
        if self.total is not None:
            return self.total
        if self.price is None:
            return None
        return WIDE.multiply(self.amount, self.price)


@dataclass
class Lot:
    """An open lot: what is left of one acquisition; ``cost`` None = unknown."""

    amount: Decimal
    cost: Decimal | None
    acquired_at: datetime
    seq: int

    @property
    def unit_cost(self) -> Decimal | None:
        if self.cost is None:
            return None
        return WIDE.divide(self.cost, self.amount).quantize(QUANTUM, context=WIDE)


@dataclass
class SymbolLedger:
    """A symbol's state after replay: open lots and realized P/L."""

    symbol: str
    method: str = FIFO
    lots: list[Lot] = field(default_factory=list)
    realized_pl: Decimal = ZERO
    #: Amount sold out of unknown-cost lots: its P/L is unknown, left out.
    unknown_cost_sold: Decimal = ZERO

    @property
    def amount(self) -> Decimal:
        return _sum(lot.amount for lot in self.lots)

    @property
    def unknown_cost_amount(self) -> Decimal:
        return _sum(lot.amount for lot in self.lots if lot.cost is None)

    @property
    def cost_basis(self) -> Decimal | None:
        """Cost of the open known-cost lots (None when no lot has a known cost)."""
        known = [lot.cost for lot in self.lots if lot.cost is not None]
        return _sum(known) if known else None

    @property
    def average_cost(self) -> Decimal | None:
        """Cost basis per unit of the known-cost open lots (18 decimals)."""
        cost = self.cost_basis
        known = WIDE.subtract(self.amount, self.unknown_cost_amount)
        if cost is None or known == 0:
            return None
        return WIDE.divide(cost, known).quantize(QUANTUM, context=WIDE)


class OverdrawnError(ValueError):
    """A sell or transfer_out of more than was held at its date."""

    def __init__(self, entry: Entry, held: Decimal) -> None:
        self.entry = entry
        self.held = held
        when = entry.executed_at.isoformat()
        super().__init__(
            f"You held {_show(held)} {entry.symbol} on {when}; cannot "
            f"{entry.kind.replace('_', ' ')} {_show(entry.amount)}."
        )


def _sum(values: Iterable[Decimal]) -> Decimal:
    """An exact sum (the default 28-digit context would round 36-digit costs)."""
    total = ZERO
    for value in values:
        total = WIDE.add(total, value)
    return total


def _show(value: Decimal) -> str:
    return "0" if value == 0 else format(value.normalize(WIDE), "f")


def _share(value: Decimal, part: Decimal, whole: Decimal) -> Decimal:
    """``value`` x part/whole, exact when part == whole, else 18 decimals."""
    if part == whole:
        return value
    return WIDE.divide(WIDE.multiply(value, part), whole).quantize(
        QUANTUM, context=WIDE
    )


def _acquire(ledger: SymbolLedger, entry: Entry) -> None:
    gross = entry.gross
    cost = None if gross is None else WIDE.add(gross, entry.fee)
    lot = Lot(entry.amount, cost, entry.executed_at, entry.seq)
    if ledger.method == AVERAGE and ledger.lots:
        _pool(ledger, lot)
    else:
        ledger.lots.append(lot)


def _pool(ledger: SymbolLedger, lot: Lot) -> None:
    """Average cost: known-cost units form one pool; unknown ones stay apart."""
    if lot.cost is None:
        ledger.lots.append(lot)
        return
    for existing in ledger.lots:
        if existing.cost is not None:
            existing.amount = WIDE.add(existing.amount, lot.amount)
            existing.cost = WIDE.add(existing.cost, lot.cost)
            return
    ledger.lots.insert(0, lot)


def _consume(
    ledger: SymbolLedger, amount: Decimal
) -> list[tuple[Decimal, Decimal | None]]:
    """Take ``amount`` from the lots (oldest first); ``(amount, cost)`` taken."""
    taken: list[tuple[Decimal, Decimal | None]] = []
    remaining = amount
    while remaining > 0:
        lot = ledger.lots[0]
        part = min(lot.amount, remaining)
        cost = None if lot.cost is None else _share(lot.cost, part, lot.amount)
        taken.append((part, cost))
        lot.amount = WIDE.subtract(lot.amount, part)
        if lot.cost is not None:
            lot.cost = WIDE.subtract(lot.cost, cost)
        if lot.amount == 0:
            ledger.lots.pop(0)
        remaining = WIDE.subtract(remaining, part)
    return taken


def _dispose(ledger: SymbolLedger, entry: Entry) -> None:
    held = ledger.amount
    if entry.amount > held:
        raise OverdrawnError(entry, held)
    taken = _consume(ledger, entry.amount)
    if entry.kind != SELL:
        return  # transfer_out: lots leave without realizing anything
    proceeds = WIDE.subtract(entry.gross, entry.fee)
    for part, cost in taken:
        if cost is None:
            ledger.unknown_cost_sold = WIDE.add(ledger.unknown_cost_sold, part)
            continue
        share = _share(proceeds, part, entry.amount)
        ledger.realized_pl = WIDE.add(ledger.realized_pl, WIDE.subtract(share, cost))


def _order(entry: Entry) -> tuple:
    return (entry.executed_at, entry.seq)


def replay(symbol: str, entries: Iterable[Entry], method: str = FIFO) -> SymbolLedger:
    """Replay one symbol's entries in time order (OverdrawnError when overdrawn)."""
    if method not in (FIFO, AVERAGE):
        raise ValueError(f"Unknown cost method {method!r}.")
    ledger = SymbolLedger(symbol=symbol, method=method)
    for entry in sorted(entries, key=_order):
        if entry.kind in (BUY, TRANSFER_IN):
            _acquire(ledger, entry)
        elif entry.kind in (SELL, TRANSFER_OUT):
            _dispose(ledger, entry)
        else:
            raise ValueError(f"Unknown transaction kind {entry.kind!r}.")
    return ledger


def replay_all(entries: Iterable[Entry], method: str = FIFO) -> dict[str, SymbolLedger]:
    """``{symbol: SymbolLedger}`` for every symbol among ``entries``."""
    by_symbol: dict[str, list[Entry]] = {}
    for entry in entries:
        by_symbol.setdefault(entry.symbol, []).append(entry)
    return {s: replay(s, e, method) for s, e in sorted(by_symbol.items())}
