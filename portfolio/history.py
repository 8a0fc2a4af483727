"""Value-history ranges and downsampling for the portfolio chart (pure functions)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from decimal import Decimal

__all__ = ["RANGES", "MAX_POINTS", "downsample"]

RANGES: dict[str, timedelta] = {
    "1h": timedelta(hours=1),
    "24h": timedelta(hours=24),
    "7d": timedelta(days=7),
    "30d": timedelta(days=30),
}
MAX_POINTS = 300


def downsample(
    points: Iterable[tuple[datetime, Decimal]],
    *,
    start: datetime,
    end: datetime,
    max_points: int = MAX_POINTS,
) -> list[tuple[datetime, Decimal]]:
    """At most ``max_points`` points: the last snapshot of each equal time bucket.

    Keeping real snapshots (not averages) keeps every value exact.
    """
    points = list(points)
    if len(points) <= max_points:
        return points
    width = (end - start) / max_points
    buckets: dict[int, tuple[datetime, Decimal]] = {}
    for taken_at, value in points:
        index = min(max(int((taken_at - start) / width), 0), max_points - 1)
        buckets[index] = (taken_at, value)
    return [buckets[i] for i in sorted(buckets)]
