"""Each owner's replayed positions, kept in Django's cache until their ledger changes.

GET /api/portfolio/ used to replay the owner's whole ledger on every request;
the replay only changes when a transaction or the cost method does, so its
result is cached per owner (local memory embedded, Redis in scale-out, where
every daphne process shares it).

Invalidation is by version, not by deleting the entry, so that a reader that
replayed the ledger before a write committed cannot store its stale result
after the write's invalidation: each owner has a version token; a reader takes
the token BEFORE it reads the database and stores ``(token, positions)``; a
write replaces the token once its database transaction has committed; an entry
whose token is not the current one is a miss. Tokens are random, never a
counter, so a version key evicted from the cache can never come back as an
older version whose entry is still there.

Every writer is covered by model signals on ``Transaction`` and
``LedgerSettings`` (services, imports, the holdings API, management commands, a
shell, cascading deletes); only ``QuerySet.update()`` and ``bulk_create``
bypass signals, and no code writes the ledger that way (a new one must call
``invalidate``).
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from functools import partial
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.core.cache import cache
from django.db import DEFAULT_DB_ALIAS, transaction
from django.db.models.signals import post_delete, post_save

from ..valuation import Position
from . import selectors
from .models import LedgerSettings, Transaction

__all__ = ["positions", "invalidate", "invalidating", "connect"]

logger = logging.getLogger(__name__)

# Entries age out within a minute: with local memory (embedded) the cache is
# this process's own, so a write made by ANOTHER process (``manage.py shell``,
# ``loaddata``) cannot invalidate it and is seen at the latest this late. At
# 50 requests/s that is one replay a minute instead of 3,000. The version key
# never expires by itself.
ENTRY_TIMEOUT = 60
_PREFIX = "ledger-positions"

# Owners whose writes in the current block are invalidated once at its end
# (an import saves thousands of rows: one version change, not one per row).
_covered: ContextVar[frozenset[int]] = ContextVar("covered", default=frozenset())


def _version_key(owner_id: int) -> str:
    return f"{_PREFIX}:version:{owner_id}"


def _entry_key(owner_id: int) -> str:
    return f"{_PREFIX}:entry:{owner_id}"


def _new_token() -> str:
    return secrets.token_hex(8)


def _current_token(owner_id: int, found: str | None) -> str:
    """The owner's version token, created if the cache has none."""
    if found is not None:
        return found
    token = _new_token()
    if cache.add(_version_key(owner_id), token, timeout=None):
        return token
    # Another reader or a write set one meanwhile: that one is current.
    return cache.get(_version_key(owner_id)) or token


def positions(*, owner: AbstractBaseUser) -> list[Position]:
    """The owner's replayed positions, cached until their ledger changes."""
    if transaction.get_connection().in_atomic_block:
        # Inside a transaction this connection may see its own uncommitted
        # writes: caching them could publish what is later rolled back.
        return selectors.positions(owner=owner)
    owner_id = owner.pk
    version_key, entry_key = _version_key(owner_id), _entry_key(owner_id)
    found = cache.get_many([version_key, entry_key])
    token = _current_token(owner_id, found.get(version_key))
    entry = found.get(entry_key)
    if entry is not None and entry[0] == token:
        return entry[1]
    # The token was read before the replay: if a write commits meanwhile, it
    # replaces the token and this entry is never served.
    result = selectors.positions(owner=owner)
    cache.set(entry_key, (token, result), timeout=ENTRY_TIMEOUT)
    return result


def _bump(owner_id: int) -> None:
    try:
        cache.set(_version_key(owner_id), _new_token(), timeout=None)
    except Exception:  # noqa: BLE001 - the cache server may be down
        # The write is committed: failing the request now would tell the user
        # it was not, and a retry would enter it twice. The old entry ages out
        # within ENTRY_TIMEOUT (and a cache that is down serves nothing).
        logger.error(
            "Cached positions of owner %s could not be invalidated; they may "
            "show the ledger before this write for up to %d s",
            owner_id,
            ENTRY_TIMEOUT,
            exc_info=True,
        )
        return
    logger.debug("Cached positions of owner %s invalidated", owner_id)


def invalidate(owner_id: int, using: str = DEFAULT_DB_ALIAS) -> None:
    """Drop the owner's cached positions when the current transaction commits.

    After the commit, not before: a reader between an early invalidation and
    the commit would replay the old ledger and cache it under the new token.
    Outside a transaction Django runs it at once; a rollback discards it, as
    nothing changed. A cache that cannot be told is logged, never an error for
    a write that is already committed (see ``_bump``).
    """
    transaction.on_commit(partial(_bump, owner_id), using=using)


@contextmanager
def invalidating(owner_id: int, using: str = DEFAULT_DB_ALIAS) -> Iterator[None]:
    """Writes to ``owner_id``'s ledger in this block invalidate once, at its end."""
    reset = _covered.set(_covered.get() | {owner_id})
    try:
        yield
    finally:
        _covered.reset(reset)
        invalidate(owner_id, using)


def _on_ledger_write(sender: type, instance: Any, using: str, **kwargs: Any) -> None:
    if instance.owner_id in _covered.get():
        return
    invalidate(instance.owner_id, using)


def connect() -> None:
    """Every save or delete of a ledger row invalidates its owner's positions."""
    for model in (Transaction, LedgerSettings):
        name = model.__name__
        post_save.connect(
            _on_ledger_write, sender=model, dispatch_uid=f"positions-save-{name}"
        )
        post_delete.connect(
            _on_ledger_write, sender=model, dispatch_uid=f"positions-delete-{name}"
        )
