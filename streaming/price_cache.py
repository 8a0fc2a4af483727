"""Latest chosen price per symbol in Django's cache, readable without waiting for ticks.

The feed worker writes here (Redis when configured, so every server process
sees it; local memory in the embedded single process); pages and the REST API
read. Values are ``PriceUpdate.to_dict()`` dicts: decimals as exact strings,
``timestamp`` the exchange's event time (ISO-8601), ``source`` the provider.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Iterable, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

from django.core.cache import cache

logger = logging.getLogger(__name__)

KEY_PREFIX = "price:"
SYMBOLS_KEY = "price-symbols"
# Long enough to survive a worker restart; age is judged from each price's
# own timestamp, never from the cache entry.
TIMEOUT_SECONDS = 24 * 3600
# How long a price batch waits for its cache write before going out anyway.
WRITE_WAIT_SECONDS = 0.5

# The price path's own thread. Django's ``cache.aset*`` run on asgiref's ONE
# thread-sensitive thread, the same that runs every ORM call of the worker: a
# hung database query held every price behind it (issue 19, item 2).
_writer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="price-cache")
_pending: Future[None] | None = None
# Symbols this process saw in SYMBOLS_KEY or wrote there, and when it last looked.
SYMBOLS_RECHECK = 5.0  # seconds: a flushed cache is listed again within this
_listed: set[str] = set()
_symbols_checked_at = float("-inf")


def _key(symbol: str) -> str:
    return f"{KEY_PREFIX}{symbol}"


def store_prices(prices: Mapping[str, Mapping[str, Any]]) -> None:
    """Store the newest price dict per symbol (``{symbol: price_dict}``)."""
    global _symbols_checked_at
    if not prices:
        return
    cache.set_many({_key(s): dict(p) for s, p in prices.items()}, TIMEOUT_SECONDS)
    # The symbol list changes rarely: read it back only for a symbol this
    # process has not listed yet, or now and then (it may have expired, or
    # another worker may have listed more), not on every batch.
    now = time.monotonic()
    if _listed.issuperset(prices) and now - _symbols_checked_at < SYMBOLS_RECHECK:
        return
    known = set(cache.get(SYMBOLS_KEY) or ())
    if not known.issuperset(prices) or now - _symbols_checked_at >= SYMBOLS_RECHECK:
        cache.set(SYMBOLS_KEY, sorted(known | set(prices)), TIMEOUT_SECONDS)
    _listed.update(known, prices)
    _symbols_checked_at = now


def clear_prices() -> None:
    """Forget every stored price and the symbol list (tests, an operator's reset)."""
    global _symbols_checked_at
    symbols = cache.get(SYMBOLS_KEY) or []
    cache.delete_many([_key(s) for s in symbols] + [SYMBOLS_KEY])
    _listed.clear()
    _symbols_checked_at = float("-inf")


def get_prices(symbols: Iterable[str]) -> dict[str, dict[str, Any]]:
    """Latest price dict for each symbol that has one (missing symbols are absent)."""
    keys = {_key(s): s for s in symbols}
    if not keys:
        return {}
    found = cache.get_many(list(keys))
    return {keys[k]: v for k, v in found.items()}


def get_all_prices() -> dict[str, dict[str, Any]]:
    """Latest price dict for every symbol the worker has priced."""
    return get_prices(cache.get(SYMBOLS_KEY) or ())


async def astore_prices(prices: Mapping[str, Mapping[str, Any]]) -> None:
    """Store from async code on the price path's own thread, waiting at most a little.

    A write still running (the cache itself hung) is not queued behind: this
    batch is skipped, and the next one carries the newest prices anyway.
    """
    global _pending
    if not prices:
        return
    if _pending is not None and not _pending.done():
        logger.warning("price cache write still running; skipping this batch")
        return
    _pending = _writer.submit(store_prices, dict(prices))
    try:
        await asyncio.wait_for(asyncio.wrap_future(_pending), WRITE_WAIT_SECONDS)
    except TimeoutError:
        logger.warning("price cache write slow (> %.1f s)", WRITE_WAIT_SECONDS)
