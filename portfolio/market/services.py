"""Writes of candles: fill a range's missing slots from the exchanges, store them.

Bounded: one fill asks only for the missing part of the range, at most
``CANDLES_MAX_REQUESTS`` pages, and the client backs off from an exchange that
failed; a range the exchanges answered without candles (before a listing) is
not asked again for ``RECHECK_SECONDS``.
"""

from __future__ import annotations

import logging
import threading
import time
from datetime import datetime

from django.conf import settings

from streaming.feeds.candles import INTERVALS, CandleClient

from ..ledger.history import slot_opens
from . import selectors
from .models import Candle

__all__ = ["candles_fill", "default_client", "set_default_client"]

logger = logging.getLogger(__name__)

RECHECK_SECONDS = 600.0
_client: CandleClient | None = None
_answered: dict[tuple[str, str, datetime, datetime], float] = {}
_lock = threading.Lock()


def default_client() -> CandleClient | None:
    """The process's candle client (None when fetching is off)."""
    global _client
    if not settings.CANDLES_FETCH:
        return None
    if _client is None:
        _client = CandleClient(
            providers=tuple(settings.CANDLE_PROVIDERS),
            urls={k: v for k, v in settings.CANDLE_URLS.items() if v},
            timeout=settings.CANDLES_TIMEOUT,
            max_requests=settings.CANDLES_MAX_REQUESTS,
        )
    return _client


def set_default_client(client: CandleClient | None) -> None:
    """Replace the process client (tests; None rebuilds it from settings)."""
    global _client
    _client = client
    _answered.clear()


def candles_fill(*, symbol: str, interval: str, start: datetime, now: datetime) -> int:
    """Fetch and store the closed candles of [start, now) not stored yet."""
    client = default_client()
    if client is None:
        return 0
    step = INTERVALS[interval]
    opens = slot_opens(start, now, step)
    if not opens:
        return 0
    end = opens[-1] + step
    stored = selectors.candle_open_times(
        symbol=symbol, interval=interval, start=opens[0], end=end
    )
    missing = [t for t in opens if t not in stored]
    if not missing:
        return 0
    key = (symbol, interval, missing[0], end)
    with _lock:
        if time.monotonic() < _answered.get(key, 0.0):
            return 0
        result = client.fetch(symbol, interval, missing[0], end)
        if result is None:
            return 0
        _answered[key] = time.monotonic() + RECHECK_SECONDS
    provider, candles = result
    rows = [
        Candle(
            symbol=symbol,
            interval=interval,
            open_time=c.open_time,
            close=c.close,
            source=provider,
        )
        for c in candles
        if c.open_time not in stored
    ]
    Candle.objects.bulk_create(rows, ignore_conflicts=True)
    logger.info(
        "stored %d %s candles of %s from %s", len(rows), interval, symbol, provider
    )
    return len(rows)
