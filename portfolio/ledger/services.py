"""Writes of the ledger: transactions, the cost method, the holdings projection.

Every write replays the affected symbols inside its database transaction: a
sell or transfer_out beyond what was held at its date (also one made so by
deleting or backdating another entry) is refused as a ``ValidationError`` and
nothing is stored. ``Holding`` rows are then rewritten from the replay, so the
legacy holdings API, the admin and the live worker's change detection keep
seeing one row per open position.
"""

from __future__ import annotations

import decimal
from collections.abc import Iterable
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import transaction

from ..models import Holding
from . import lots, selectors
from .models import LedgerSettings, Transaction, TransactionOrigin

__all__ = [
    "transaction_create",
    "transaction_update",
    "transaction_delete",
    "ledger_settings_update",
    "holdings_sync",
    "holdings_sync_checked",
    "transaction_build",
    "overdrawn_message",
]

TRANSACTION_FIELDS = frozenset(
    {"kind", "symbol", "amount", "price", "fee", "total", "executed_at", "note"}
)
STORED = Decimal("1e-18")


def overdrawn_message(exc: lots.OverdrawnError) -> str:
    return str(exc)


def _projected_cost(cost: Decimal | None) -> Decimal | None:
    """The Holding column keeps 18 decimals; the exact figure stays in the ledger."""
    if cost is None:
        return None
    context = decimal.Context(prec=120, rounding=decimal.ROUND_HALF_EVEN)
    return cost.quantize(STORED, context=context)


def holdings_sync(
    *, owner: AbstractBaseUser, symbols: Iterable[str]
) -> dict[str, lots.SymbolLedger]:
    """Replay ``symbols`` and rewrite their Holding rows (OverdrawnError raises)."""
    symbols = set(symbols)
    replayed = selectors.ledgers(owner=owner, symbols=symbols)
    for symbol in sorted(symbols):
        ledger = replayed.get(symbol)
        if ledger is None or ledger.amount == 0:
            Holding.objects.filter(owner=owner, symbol=symbol).delete()
            continue
        holding = Holding.objects.filter(owner=owner, symbol=symbol).first()
        holding = holding or Holding(owner=owner, symbol=symbol)
        holding.amount = ledger.amount
        holding.cost_basis = _projected_cost(ledger.cost_basis)
        holding.save()
    return replayed


def holdings_sync_checked(owner: AbstractBaseUser, symbols: Iterable[str]) -> None:
    """``holdings_sync``, an overdraw becoming a ValidationError on ``amount``."""
    try:
        holdings_sync(owner=owner, symbols=symbols)
    except lots.OverdrawnError as exc:
        raise ValidationError({"amount": overdrawn_message(exc)}) from exc


def _check_quota(owner: AbstractBaseUser, adding: int = 1) -> None:
    limit = getattr(settings, "LEDGER_MAX_TRANSACTIONS", 100_000)
    count = Transaction.objects.filter(owner=owner).count()
    if count + adding > limit:
        raise ValidationError(
            {
                "non_field_errors": f"A ledger holds at most {limit} transactions; "
                f"you have {count}. Delete some before adding more."
            },
            code="quota",
        )


def transaction_build(
    *,
    owner: AbstractBaseUser,
    kind: str,
    symbol: str,
    amount: Decimal,
    executed_at: datetime,
    price: Decimal | None = None,
    fee: Decimal | None = None,
    total: Decimal | None = None,
    note: str = "",
    origin: str = TransactionOrigin.MANUAL,
    import_source: str = "",
    import_id: str | None = None,
) -> Transaction:
    """An unsaved, validated Transaction (shared by create and import)."""
    txn = Transaction(
        owner=owner,
        kind=kind,
        symbol=symbol,
        amount=amount,
        executed_at=executed_at,
        price=price,
        fee=Decimal(0) if fee is None else fee,
        total=total,
        note=note or "",
        origin=origin,
        import_source=import_source,
    )
    if import_id:
        txn.import_id = import_id
    txn.full_clean(validate_constraints=False)
    return txn


@transaction.atomic
def transaction_create(
    *,
    owner: AbstractBaseUser,
    kind: str,
    symbol: str,
    amount: Decimal,
    executed_at: datetime,
    price: Decimal | None = None,
    fee: Decimal | None = None,
    total: Decimal | None = None,
    note: str = "",
) -> Transaction:
    _check_quota(owner)
    txn = transaction_build(
        owner=owner,
        kind=kind,
        symbol=symbol,
        amount=amount,
        executed_at=executed_at,
        price=price,
        fee=fee,
        total=total,
        note=note,
    )
    txn.save()
    holdings_sync_checked(owner, {symbol})
    return txn


@transaction.atomic
def transaction_update(*, txn: Transaction, data: dict[str, Any]) -> Transaction:
    """Change the given fields; the old and new symbol are replayed."""
    unknown = set(data) - TRANSACTION_FIELDS
    if unknown:
        raise TypeError(f"Cannot update field(s): {', '.join(sorted(unknown))}")
    old_symbol = txn.symbol
    for name, value in data.items():
        if name == "fee" and value is None:
            value = Decimal(0)
        setattr(txn, name, value)
    txn.full_clean(validate_constraints=False)
    txn.save()
    holdings_sync_checked(txn.owner, {old_symbol, txn.symbol})
    return txn


@transaction.atomic
def transaction_delete(*, txn: Transaction) -> None:
    """Delete one entry; refused if a later sell would then exceed holdings."""
    owner, symbol = txn.owner, txn.symbol
    txn.delete()
    holdings_sync_checked(owner, {symbol})


@transaction.atomic
def ledger_settings_update(
    *, owner: AbstractBaseUser, cost_method: str
) -> LedgerSettings:
    """Switch FIFO/average cost; every symbol is replayed with the new method."""
    row, _ = LedgerSettings.objects.get_or_create(owner=owner)
    row.cost_method = cost_method
    row.full_clean()
    row.save()
    symbols = set(
        Transaction.objects.filter(owner=owner).values_list("symbol", flat=True)
    )
    holdings_sync_checked(owner, symbols)
    return row
