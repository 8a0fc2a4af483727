"""A SIGKILLed worker: the standby takes over within the lock expiry; one alert."""

from __future__ import annotations

import os
import signal
import time
from decimal import Decimal

import pytest

from portfolio import services
from portfolio.models import Alert, AlertKind

from .conftest import finish, manage, wait_for_line

pytestmark = [
    pytest.mark.real_only,
    pytest.mark.timeout(90),
    pytest.mark.django_db(transaction=True),
]

LOCK_TTL = 10.0  # WorkerConfig.lock_ttl


def _wait_alerts(rule_id: int, count: int, timeout: float) -> int:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        n = Alert.objects.filter(rule_id=rule_id).count()
        if n >= count:
            return n
        time.sleep(0.1)
    return Alert.objects.filter(rule_id=rule_id).count()


def test_standby_takes_over_after_sigkill_and_no_duplicate_alert(user):
    # The mock BTC price is far above 1: the condition holds from the first tick,
    # so every worker that sees it would fire if the crossing were not shared.
    rule = services.alert_rule_create(
        owner=user,
        kind=AlertKind.PRICE_ABOVE,
        symbol="BTC",
        threshold=Decimal("1"),
        cooldown_seconds=0,
    )
    env = {"CHANNEL_LAYER_PREFIX": f"killtest{os.getpid()}", "FEED_STARTUP_WINDOW": "0"}
    args = ("run_feeds", "--providers", "mock", "--symbols", "BTC")
    first = manage(*args, env=env)
    second = third = None
    try:
        wait_for_line(first, "Holding the worker lock", 30)
        assert _wait_alerts(rule.pk, 1, 15) == 1
        second = manage(*args, env=env)
        wait_for_line(second, "waiting as standby", 30)

        first.send_signal(signal.SIGKILL)  # no release: the lock has to expire
        first.wait(10)
        killed = time.monotonic()
        wait_for_line(second, "Holding the worker lock", LOCK_TTL + 10)
        took_over = time.monotonic() - killed
        assert took_over <= LOCK_TTL + LOCK_TTL / 3 + 2, took_over
        wait_for_line(second, "Feed worker started", 10)

        # The killed worker restarted: standby now, then leader again after a
        # clean hand-over (SIGTERM releases the lock at once).
        third = manage(*args, env=env)
        wait_for_line(third, "waiting as standby", 30)
        out = finish(second)
        assert second.returncode == 0, out
        wait_for_line(third, "Holding the worker lock", LOCK_TTL)
        wait_for_line(third, "Feed worker started", 10)
        time.sleep(2.0)  # the resumed leader publishes and evaluates for a while

        # One crossing, three workers: exactly one alert row.
        assert Alert.objects.filter(rule_id=rule.pk).count() == 1
        rule.refresh_from_db()
        assert rule.trigger_count == 1 and rule.last_condition_met is True
    finally:
        for proc in (first, second, third):
            if proc is not None and proc.poll() is None:
                out = finish(proc)
                assert "Traceback" not in out, out
