"""Latest chosen price per symbol in Django's cache, readable without waiting for ticks.

The feed worker writes here (Redis when configured, so every server process
sees it; local memory in the embedded single process); pages and the REST API
read. Values are ``PriceUpdate.to_dict()`` dicts: decimals as exact strings,
``timestamp`` the exchange's event time (ISO-8601), ``source`` the provider.
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
import weakref
from collections.abc import Awaitable, Iterable, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

from django.conf import settings
from django.core.cache import DEFAULT_CACHE_ALIAS, cache, caches
from django.core.cache.backends.locmem import LocMemCache
from django.core.cache.backends.redis import RedisCache, RedisSerializer

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
_SERIALIZER = RedisSerializer()  # what Django's RedisCache stores: pickles
_clients: weakref.WeakKeyDictionary[Any, Any] = weakref.WeakKeyDictionary()
_redis_write: asyncio.Future[None] | None = None


def _key(symbol: str) -> str:
    return f"{KEY_PREFIX}{symbol}"


def store_prices(prices: Mapping[str, Mapping[str, Any]]) -> None:
    """Store the newest price dict per symbol (``{symbol: price_dict}``)."""
    if not prices:
        return
    cache.set_many({_key(s): dict(p) for s, p in prices.items()}, TIMEOUT_SECONDS)
    if _symbols_due(prices):
        listed = _listing(set(cache.get(SYMBOLS_KEY) or ()), prices)
        if listed is not None:
            cache.set(SYMBOLS_KEY, listed, TIMEOUT_SECONDS)


def _symbols_due(prices: Mapping[str, Any]) -> bool:
    # The symbol list changes rarely: read it back only for a symbol this
    # process has not listed yet, or now and then (it may have expired with a
    # flushed cache, or another worker may have listed more), not per batch.
    fresh = time.monotonic() - _symbols_checked_at < SYMBOLS_RECHECK
    return not (fresh and _listed.issuperset(prices))


def _listing(known: set[str], prices: Mapping[str, Any]) -> list[str] | None:
    """The symbol list to write after reading ``known`` (None: nothing to write)."""
    global _symbols_checked_at
    now = time.monotonic()
    stale = now - _symbols_checked_at >= SYMBOLS_RECHECK
    _listed.update(known, prices)
    _symbols_checked_at = now
    if known.issuperset(prices) and not stale:
        return None
    return sorted(known | set(prices))  # rewritten when stale: refreshes its expiry


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
    """Store from async code, waiting at most a little; never on asgiref's thread.

    Local memory (embedded) is written inline: a dict in this process cannot
    hang. Redis is written with an asyncio client on this loop, the same keys
    and serializer as Django's RedisCache, so readers use the cache API as
    ever. Any other backend goes to the price path's own thread. A write still
    running is not queued behind: this batch is skipped, and the next one
    carries the newest prices anyway.
    """
    global _pending, _redis_write
    if not prices:
        return
    backend = caches[DEFAULT_CACHE_ALIAS]
    if isinstance(backend, LocMemCache):
        store_prices(prices)
        return
    if isinstance(backend, RedisCache):
        running = _redis_write
        if running is not None and not running.done():
            if running.get_loop() is asyncio.get_running_loop():
                logger.warning("price cache write still running; skipping this batch")
                return
        # A task shielded from the timeout: a hung Redis costs one wait, then
        # batches are skipped (as above) until that write ends or times out.
        _redis_write = asyncio.ensure_future(_astore_redis(backend, prices))
        _redis_write.add_done_callback(_retrieved)
        await _bounded(asyncio.shield(_redis_write))
        return
    if _pending is not None and not _pending.done():
        logger.warning("price cache write still running; skipping this batch")
        return
    _pending = _writer.submit(store_prices, dict(prices))
    await _bounded(asyncio.wrap_future(_pending))


def _retrieved(write: asyncio.Future[None]) -> None:
    # A write that outlived its wait fails unseen otherwise ("never retrieved").
    if not write.cancelled() and write.exception() is not None:
        logger.debug("late price cache write failed: %r", write.exception())


async def _bounded(write: Awaitable[None]) -> None:
    try:
        await asyncio.wait_for(write, WRITE_WAIT_SECONDS)
    except TimeoutError:
        logger.warning("price cache write slow (> %.1f s)", WRITE_WAIT_SECONDS)


async def _astore_redis(
    backend: RedisCache, prices: Mapping[str, Mapping[str, Any]]
) -> None:
    client = _redis_client()
    key = backend.make_and_validate_key
    async with client.pipeline(transaction=False) as pipe:
        data = {key(_key(s)): _SERIALIZER.dumps(dict(p)) for s, p in prices.items()}
        pipe.mset(data)
        for name in data:
            pipe.expire(name, TIMEOUT_SECONDS)
        await pipe.execute()
    if _symbols_due(prices):
        raw = await client.get(key(SYMBOLS_KEY))
        listed = _listing(set(_SERIALIZER.loads(raw)) if raw else set(), prices)
        if listed is not None:
            await client.set(
                key(SYMBOLS_KEY), _SERIALIZER.dumps(listed), ex=TIMEOUT_SECONDS
            )


def _redis_client() -> Any:
    """An asyncio client of the cache's (first, written) server, per event loop."""
    import redis.asyncio as aioredis

    loop = asyncio.get_running_loop()
    client = _clients.get(loop)
    if client is None:
        # Django's RedisCache writes to its first server; so do we.
        location = settings.CACHES[DEFAULT_CACHE_ALIAS]["LOCATION"]
        if isinstance(location, str):
            location = re.split("[;,]", location)
        client = _clients[loop] = aioredis.from_url(
            location[0], socket_timeout=5, socket_connect_timeout=2
        )
    return client
