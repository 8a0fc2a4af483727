"""The delivery loop drills: receiver down then up, 410, a hanging receiver,
and an alert that reaches e-mail, a signed webhook and Apprise within seconds."""

from __future__ import annotations

import asyncio
import time
from decimal import Decimal

import pytest
from asgiref.sync import sync_to_async
from django.db import connections

from portfolio import services
from portfolio.live.deliveries import DeliveryJob
from portfolio.models import AlertKind
from portfolio.notifications import outbox
from portfolio.notifications.models import Delivery, NotificationChannel
from tests.portfolio.notifications.conftest import SECRET
from tests.portfolio.notifications.receivers import HttpReceiver
from tests.portfolio.notifications.test_senders import verify_as_a_receiver
from tests.portfolio.test_commands import free_port

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.timeout(60)]


@pytest.fixture
async def job(fast_retries, allow_private):
    jobs: list[tuple[DeliveryJob, asyncio.Task]] = []

    def start() -> DeliveryJob:
        delivery_job = DeliveryJob.from_settings()
        jobs.append((delivery_job, asyncio.create_task(delivery_job.run())))
        return delivery_job

    yield start
    for delivery_job, task in jobs:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        await delivery_job.aclose()
    await sync_to_async(connections.close_all)()


async def until(predicate, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if await sync_to_async(predicate)():
            return True
        await asyncio.sleep(0.05)
    return False


def _queue(make_alert, channel) -> Delivery:
    (delivery,) = outbox.deliveries_create_for_alert(alert=make_alert())
    return delivery


def row(delivery: Delivery) -> Delivery:
    return Delivery.objects.get(pk=delivery.pk)


async def test_receiver_down_then_up_is_delivered_once(job, webhook, make_alert):
    port = free_port()
    channel = await sync_to_async(webhook)(f"http://127.0.0.1:{port}/hook")
    delivery = await sync_to_async(_queue)(make_alert, channel)
    job()
    assert await until(lambda: row(delivery).attempts >= 2, 10)
    assert (await sync_to_async(row)(delivery)).state == "pending"
    hook = HttpReceiver(port=port).start()
    try:
        assert await until(lambda: row(delivery).state == "sent", 10)
        await asyncio.sleep(1.0)  # any second send would show up here
        assert len(hook.requests) == 1 and len(hook.answered_ok()) == 1
        (request,) = hook.requests
        assert request.headers["X-Portfolio-Delivery"] == str(delivery.delivery_id)
        assert verify_as_a_receiver(SECRET, request.headers, request.body)
    finally:
        hook.stop()


async def test_gone_receiver_fails_and_is_not_retried(
    job, webhook, make_alert, receiver
):
    hook = receiver(default=410)
    channel = await sync_to_async(webhook)(hook.url)
    delivery = await sync_to_async(_queue)(make_alert, channel)
    job()
    assert await until(lambda: row(delivery).state == "failed", 10)
    await asyncio.sleep(1.5)  # several retry intervals of the fast schedule
    final = await sync_to_async(row)(delivery)
    assert final.attempts == 1 and final.last_status == 410
    assert "410" in final.last_error and len(hook.requests) == 1


async def test_attempts_end_after_the_limit(job, webhook, make_alert, receiver):
    hook = receiver(default=503)
    channel = await sync_to_async(webhook)(hook.url)
    delivery = await sync_to_async(_queue)(make_alert, channel)
    job()
    assert await until(lambda: row(delivery).state == "failed", 15)
    final = await sync_to_async(row)(delivery)
    assert final.attempts == 5 and len(hook.requests) == 5


async def test_hanging_receiver_holds_one_slot_only(
    job, webhook, make_alert, receiver, settings
):
    settings.NOTIFY_TIMEOUT = 5.0
    hang = receiver(default="hang")
    good = receiver()
    bad_channel = await sync_to_async(webhook)(hang.url)
    delivery = await sync_to_async(_queue)(make_alert, bad_channel)
    job()
    assert await until(lambda: len(hang.requests) == 1, 5)
    # While it hangs: the event loop stays responsive, others are delivered.
    started = time.monotonic()
    for _ in range(20):
        await asyncio.sleep(0.01)
    assert time.monotonic() - started < 0.5
    await sync_to_async(NotificationChannel.objects.filter(pk=bad_channel.pk).update)(
        enabled=False
    )
    good_channel = await sync_to_async(webhook)(good.url)
    (other,) = await sync_to_async(outbox.deliveries_create_for_alert)(
        alert=await sync_to_async(make_alert)()
    )
    assert other.channel_id == good_channel.pk
    assert await until(lambda: row(other).state == "sent", 5)
    assert (await sync_to_async(row)(delivery)).state == "pending"
    hang.release()


def _three_channels(user, hook_url: str, apprise_port: int) -> None:
    services.alert_rule_create(
        owner=user,
        kind=AlertKind.PRICE_ABOVE,
        symbol="BTC",
        threshold=Decimal("1"),  # the mock BTC price is far above: fires at once
        cooldown_seconds=0,
    )
    for kind, fields in (
        ("webhook", {"url": hook_url, "secret": SECRET}),
        ("email", {"address": "alice@example.test"}),
        ("apprise", {"apprise_url": f"json://127.0.0.1:{apprise_port}/"}),
    ):
        # Mock prices are simulated: these channels opt in to see them.
        NotificationChannel.objects.create(
            owner=user, kind=kind, include_simulated=True, **fields
        )


async def test_alert_reaches_email_webhook_and_apprise_within_seconds(
    fast_retries, allow_private, smtp, receiver, user, connection_manager
):
    from portfolio.live.worker import FeedWorker
    from tests.faults.conftest import worker_config

    hook, apprise_hook = receiver(), receiver()
    await sync_to_async(_three_channels)(user, hook.url, apprise_hook.port)
    worker = FeedWorker(worker_config())
    stop = asyncio.Event()
    task = asyncio.create_task(worker.run(stop))
    try:
        assert await until(
            lambda: (
                len(hook.requests) == 1
                and len(apprise_hook.requests) == 1
                and len(smtp.messages) == 1
            ),
            15,
        ), (hook.requests, apprise_hook.requests, smtp.messages)
        assert verify_as_a_receiver(
            SECRET, hook.requests[0].headers, hook.requests[0].body
        )
        assert await until(
            lambda: set(Delivery.objects.values_list("state", flat=True)) == {"sent"}, 5
        )
    finally:
        stop.set()
        await asyncio.wait_for(task, 15)
        await sync_to_async(connections.close_all)()
