"""Reads of the ledger: transactions (owner-scoped) and replayed positions."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from django.contrib.auth.models import AbstractBaseUser
from django.db.models import QuerySet

from ..valuation import Position
from . import lots
from .models import CostMethod, LedgerSettings, Transaction

__all__ = [
    "transaction_list",
    "transaction_get",
    "cost_method",
    "entries",
    "ledgers",
    "positions",
    "positions_by_owner",
    "transactions_fingerprint",
]


def transaction_list(
    *,
    owner: AbstractBaseUser,
    symbol: str | None = None,
    kind: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
) -> QuerySet[Transaction]:
    """Newest first; ``since``/``until`` bound ``executed_at`` (inclusive)."""
    qs = Transaction.objects.filter(owner=owner)
    if symbol:
        qs = qs.filter(symbol=symbol)
    if kind:
        qs = qs.filter(kind=kind)
    if since is not None:
        qs = qs.filter(executed_at__gte=since)
    if until is not None:
        qs = qs.filter(executed_at__lte=until)
    return qs.order_by("-executed_at", "-id")


def transaction_get(*, owner: AbstractBaseUser, pk: int) -> Transaction | None:
    return Transaction.objects.filter(owner=owner, pk=pk).first()


def cost_method(*, owner: AbstractBaseUser) -> str:
    row = LedgerSettings.objects.filter(owner=owner).first()
    return row.cost_method if row else CostMethod.FIFO


def to_entry(txn: Transaction) -> lots.Entry:
    return lots.Entry(
        kind=txn.kind,
        symbol=txn.symbol,
        amount=txn.amount,
        executed_at=txn.executed_at,
        price=txn.price,
        fee=txn.fee,
        total=txn.total,
        seq=txn.pk or 0,
    )


def entries(
    *, owner: AbstractBaseUser, symbols: Iterable[str] | None = None
) -> list[lots.Entry]:
    qs = Transaction.objects.filter(owner=owner)
    if symbols is not None:
        qs = qs.filter(symbol__in=list(symbols))
    return [to_entry(t) for t in qs.order_by("executed_at", "id")]


def ledgers(
    *, owner: AbstractBaseUser, symbols: Iterable[str] | None = None
) -> dict[str, lots.SymbolLedger]:
    """Replayed state per symbol (raises ``lots.OverdrawnError`` if inconsistent)."""
    return lots.replay_all(
        entries(owner=owner, symbols=symbols), cost_method(owner=owner)
    )


def _position(ledger: lots.SymbolLedger) -> Position:
    return Position(
        symbol=ledger.symbol,
        amount=ledger.amount,
        cost_basis=ledger.cost_basis,
        realized_pl=ledger.realized_pl,
        unknown_cost_amount=ledger.unknown_cost_amount,
    )


def positions(*, owner: AbstractBaseUser) -> list[Position]:
    """Every symbol the owner ever had, closed ones (amount 0) included."""
    return [_position(led) for led in ledgers(owner=owner).values()]


def positions_by_owner() -> dict[int, dict[str, tuple]]:
    """``{owner_id: {symbol: (amount, cost_basis, realized_pl, unknown_amount)}}``.

    The live worker's contract (``PortfolioMonitor.set_holdings``), replayed
    from every transaction in one query.
    """
    methods = dict(LedgerSettings.objects.values_list("owner_id", "cost_method"))
    by_owner: dict[int, list[lots.Entry]] = {}
    for txn in Transaction.objects.order_by("executed_at", "id").iterator():
        by_owner.setdefault(txn.owner_id, []).append(to_entry(txn))
    result: dict[int, dict[str, tuple]] = {}
    for owner_id, owner_entries in by_owner.items():
        method = methods.get(owner_id, CostMethod.FIFO)
        try:
            replayed = lots.replay_all(owner_entries, method)
        except lots.OverdrawnError:
            # Services refuse such writes; a row edited behind their back must
            # not stop everybody else's live values.
            continue
        result[owner_id] = {
            symbol: (
                led.amount,
                led.cost_basis,
                led.realized_pl,
                led.unknown_cost_amount,
            )
            for symbol, led in replayed.items()
        }
    return result


def transactions_fingerprint() -> tuple:
    """Changes whenever any transaction is added, edited or deleted."""
    from django.db.models import Count, Max

    agg = Transaction.objects.aggregate(
        n=Count("id"), last=Max("updated_at"), top=Max("id")
    )
    return (agg["n"], agg["last"], agg["top"])
