"""A worker SIGKILLed mid-delivery: after a restart the alert is delivered, once.

The receiver holds the first POST without answering; the worker is killed
while it waits. The killed worker's lease runs out, the restarted worker
claims the row again and the receiver's 200 settles it: one delivery id, one
2xx, one alert row, state ``sent`` after two attempts.
"""

from __future__ import annotations

import os
import signal
import time
from decimal import Decimal

import pytest

from portfolio import services
from portfolio.models import Alert, AlertKind
from portfolio.notifications.models import Delivery, NotificationChannel
from tests.portfolio.notifications.conftest import SECRET
from tests.portfolio.notifications.receivers import HttpReceiver, wait_until

from .conftest import finish, manage, wait_for_line

pytestmark = [pytest.mark.timeout(90), pytest.mark.django_db(transaction=True)]


def test_worker_killed_mid_delivery_delivers_once_after_restart(user):
    hook = HttpReceiver(script=["hang"], hang_seconds=60).start()
    services.alert_rule_create(
        owner=user,
        kind=AlertKind.PRICE_ABOVE,
        symbol="BTC",
        threshold=Decimal("1"),
        cooldown_seconds=0,
    )
    NotificationChannel.objects.create(
        owner=user, kind="webhook", url=hook.url, secret=SECRET, include_simulated=True
    )
    env = {
        "CHANNEL_LAYER_PREFIX": f"notifykill{os.getpid()}",
        "FEED_STARTUP_WINDOW": "0",
        "NOTIFY_ALLOW_PRIVATE_ADDRESSES": "1",
        "NOTIFY_TIMEOUT": "30",  # longer than the kill: it dies waiting
        "NOTIFY_LEASE_SECONDS": "3",
        "NOTIFY_RETRY_BASE_SECONDS": "0.2",
        "NOTIFY_POLL_SECONDS": "0.1",
    }
    args = ("run_feeds", "--providers", "mock", "--symbols", "BTC")
    first = manage(*args, env=env)
    second = None
    try:
        assert wait_until(lambda: len(hook.requests) == 1, 30), finish(first)
        first.send_signal(signal.SIGKILL)
        first.wait(10)
        hook.release()  # the held request ends without an answer
        (delivery,) = Delivery.objects.all()
        assert delivery.state == "pending" and delivery.attempts == 1

        second = manage(*args, env=env)
        wait_for_line(second, "Feed worker started", 30)
        assert wait_until(lambda: Delivery.objects.get().state == "sent", 20), (
            Delivery.objects.values()
        )
        time.sleep(1.0)  # a second send would arrive here
        assert len(hook.requests) == 2 and len(hook.answered_ok()) == 1
        ids = {r.headers["X-Portfolio-Delivery"] for r in hook.requests}
        assert ids == {str(delivery.delivery_id)}  # receivers de-duplicate on it
        final = Delivery.objects.get()
        assert final.attempts == 2 and final.sent_at is not None
        assert Alert.objects.count() == 1
    finally:
        hook.stop()
        for proc in (first, second):
            if proc is not None and proc.poll() is None:
                out = finish(proc)
                assert "Traceback" not in out, out
