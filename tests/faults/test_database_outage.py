"""PostgreSQL unavailable under a running worker: it logs, retries, loses no alert."""

from __future__ import annotations

import asyncio
import logging
from decimal import Decimal

import pytest
from asgiref.sync import sync_to_async
from django.db import connection

from portfolio import services
from portfolio.models import Alert, AlertKind
from streaming.events import EventType, StreamEvent
from streaming.feeds.base import DataSource, PriceUpdate

pytestmark = [
    pytest.mark.real_only,
    pytest.mark.timeout(60),
    pytest.mark.django_db(transaction=True),
]


def _admin():
    """An autocommit connection to the maintenance database (not the test one)."""
    import psycopg

    db = connection.settings_dict
    return psycopg.connect(
        host=db["HOST"],
        port=db["PORT"] or 5432,
        user=db["USER"],
        password=db["PASSWORD"] or None,
        dbname="postgres",
        autocommit=True,
    )


def _backend_pid() -> int:
    from django.db import close_old_connections

    close_old_connections()
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        return cursor.fetchone()[0]


async def publish_price(worker, update: PriceUpdate) -> None:
    """Put a chosen price on the worker's bus, as its PriceFeedManager does."""
    await worker.bus.publish(
        StreamEvent(
            EventType.PRICE_UPDATE,
            update.to_dict(),
            update.timestamp,
            source=update.source.value,
        )
    )


def _eth(price: str) -> PriceUpdate:
    return PriceUpdate("ETH", Decimal(price), source=DataSource.MOCK)


async def _count(rule_id: int) -> int:
    return await sync_to_async(Alert.objects.filter(rule_id=rule_id).count)()


async def test_crossing_during_db_outage_is_written_once_db_is_back(
    inprocess_worker, user, caplog
):
    caplog.set_level(logging.WARNING, logger="portfolio.live.alert_jobs")
    rule = await sync_to_async(services.alert_rule_create)(
        owner=user,
        kind=AlertKind.PRICE_ABOVE,
        symbol="ETH",
        threshold=Decimal("4000"),
        cooldown_seconds=0,
    )
    worker = await inprocess_worker()
    async with asyncio.timeout(10):  # the rule is loaded and evaluated below the line
        while not worker.engine._by_symbol.get("ETH"):
            await asyncio.sleep(0.05)
        await publish_price(worker, _eth("3000"))
        while worker.engine._by_symbol["ETH"][0].last_condition_met is not False:
            await asyncio.sleep(0.05)

    name = connection.settings_dict["NAME"]
    # The worker's DB work runs in asgiref's shared thread: that connection dies.
    worker_pid = await sync_to_async(_backend_pid)()
    admin = await asyncio.to_thread(_admin)
    try:
        admin.execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS false')
        admin.execute("SELECT pg_terminate_backend(%s)", [worker_pid])
        published = worker.publisher.published
        # The crossing happens while PostgreSQL refuses connections; the price
        # stays above the line as a live feed would keep reporting it.
        for _ in range(8):
            await publish_price(worker, _eth("5000"))
            await asyncio.sleep(0.25)
        assert worker.publisher.published > published, (
            "prices stopped during the outage"
        )
        assert any("alert evaluation failed" in r.getMessage() for r in caplog.records)
    finally:
        admin.execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true')
        admin.close()

    async with asyncio.timeout(15):
        while True:
            await publish_price(worker, _eth("5000"))
            if await _count(rule.pk) >= 1:
                break
            await asyncio.sleep(0.25)
    await asyncio.sleep(1.0)  # more values above the line: still one alert
    await publish_price(worker, _eth("5001"))
    await asyncio.sleep(0.5)
    assert await _count(rule.pk) == 1
    died = [t.get_name() for t in worker.tasks if t.done()]
    assert not died, f"worker loops died: {died}"


async def test_brief_crossing_during_db_outage_is_alerted_once(inprocess_worker, user):
    """Issue 19, item 3: the price is back below the line before the database
    returns; the failed evaluation was dropped and nothing re-queued it."""
    rule = await sync_to_async(services.alert_rule_create)(
        owner=user,
        kind=AlertKind.PRICE_ABOVE,
        symbol="ETH",
        threshold=Decimal("4000"),
        cooldown_seconds=0,
    )
    worker = await inprocess_worker()
    async with asyncio.timeout(10):
        while not worker.engine._by_symbol.get("ETH"):
            await asyncio.sleep(0.05)
        await publish_price(worker, _eth("3000"))
        while worker.engine._by_symbol["ETH"][0].last_condition_met is not False:
            await asyncio.sleep(0.05)

    name = connection.settings_dict["NAME"]
    worker_pid = await sync_to_async(_backend_pid)()
    admin = await asyncio.to_thread(_admin)
    try:
        admin.execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS false')
        admin.execute("SELECT pg_terminate_backend(%s)", [worker_pid])
        await publish_price(worker, _eth("5000"))  # one tick above the line
        for _ in range(6):
            await asyncio.sleep(0.25)
            await publish_price(worker, _eth("3000"))
        await asyncio.sleep(1.0)
    finally:
        admin.execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true')
        admin.close()

    async with asyncio.timeout(15):
        while await _count(rule.pk) < 1:
            await publish_price(worker, _eth("3000"))
            await asyncio.sleep(0.25)
    await asyncio.sleep(1.0)
    assert await _count(rule.pk) == 1
    alert = await sync_to_async(Alert.objects.get)(rule_id=rule.pk)
    assert alert.observed_value == Decimal("5000")  # the crossing that was seen
