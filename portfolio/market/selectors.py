"""Reads of the stored candles."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from decimal import Decimal

from .models import Candle

__all__ = ["candle_closes", "candle_open_times"]


def candle_closes(
    *, symbols: Iterable[str], interval: str, start: datetime, end: datetime
) -> dict[str, dict[datetime, tuple[Decimal, str]]]:
    """``{symbol: {open_time: (close, source)}}``, candles opening in [start, end)."""
    rows = Candle.objects.filter(
        symbol__in=list(symbols),
        interval=interval,
        open_time__gte=start,
        open_time__lt=end,
    ).values_list("symbol", "open_time", "close", "source")
    closes: dict[str, dict[datetime, tuple[Decimal, str]]] = {}
    for symbol, open_time, close, source in rows:
        closes.setdefault(symbol, {})[open_time] = (close, source)
    return closes


def candle_open_times(
    *, symbol: str, interval: str, start: datetime, end: datetime
) -> set[datetime]:
    return set(
        Candle.objects.filter(
            symbol=symbol, interval=interval, open_time__gte=start, open_time__lt=end
        ).values_list("open_time", flat=True)
    )
