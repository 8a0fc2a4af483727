"""Value-history ranges and downsampling for the portfolio chart (pure functions)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

__all__ = ["RANGES", "MAX_POINTS", "downsample"]

RANGES: dict[str, timedelta] = {
    "1h": timedelta(hours=1),
    "24h": timedelta(hours=24),
    "7d": timedelta(days=7),
    "30d": timedelta(days=30),
    "1y": timedelta(days=365),
    # Everything: the window starts at the first point (see the history view).
    "all": timedelta(days=365 * 100),
}
MAX_POINTS = 300


def downsample(
    points: Iterable[tuple[datetime, Any]],
    *,
    start: datetime,
    end: datetime,
    max_points: int = MAX_POINTS,
) -> list[tuple[datetime, Any]]:
    """At most ``max_points`` points: the last snapshot of each equal time bucket.

    Keeping real snapshots (not averages) keeps every value exact. A point is
    ``(taken_at, value, ...)``; what follows the time (value, simulated flag)
    travels with it unchanged.
    """
    points = list(points)
    if len(points) <= max_points:
        return points
    width = (end - start) / max_points
    buckets: dict[int, tuple[datetime, Any]] = {}
    for point in points:
        index = min(max(int((point[0] - start) / width), 0), max_points - 1)
        buckets[index] = point
    return [buckets[i] for i in sorted(buckets)]
