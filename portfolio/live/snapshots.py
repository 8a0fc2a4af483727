"""Job: the value history: one PortfolioSnapshot (with provenance) per user per tick."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal

from asgiref.sync import sync_to_async
from django.db import close_old_connections

from ..models import PortfolioSnapshot

logger = logging.getLogger(__name__)

__all__ = ["SnapshotJob"]


def _bulk_create(rows: list[PortfolioSnapshot]) -> None:
    close_old_connections()
    PortfolioSnapshot.objects.bulk_create(rows)


class SnapshotJob:
    """Every ``interval`` seconds, store each complete portfolio total."""

    def __init__(
        self, totals: Callable[[], dict[int, tuple[Decimal, bool]]], *, interval: float
    ) -> None:
        self.totals = totals
        self.interval = interval

    async def run(self) -> None:
        while True:
            await asyncio.sleep(self.interval)
            await self.take()

    async def take(self) -> int:
        now = datetime.now(UTC)
        # Each point keeps whether it rests on simulated prices, so the history
        # never passes an invented total off as market data.
        rows = [
            PortfolioSnapshot(
                owner_id=user_id, total_value=total, taken_at=now, simulated=simulated
            )
            for user_id, (total, simulated) in self.totals().items()
        ]
        if not rows:
            return 0
        try:
            await sync_to_async(_bulk_create)(rows)
        except Exception:  # noqa: BLE001 - DB down: the next interval writes
            logger.warning("writing %d snapshots failed", len(rows), exc_info=True)
            return 0
        return len(rows)
