"""The outbox: written with the alert, claimed under a lease, settled once."""

from __future__ import annotations

import random
from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from portfolio import alerts as alerts_module
from portfolio import services
from portfolio.alerts import AlertEngine
from portfolio.models import Alert, AlertKind, AlertRule
from portfolio.notifications import outbox
from portfolio.notifications.models import Delivery, DeliveryState, NotificationChannel
from tests.portfolio.helpers import price

pytestmark = pytest.mark.django_db(transaction=True)


def email_channel(owner, **kwargs):
    return NotificationChannel.objects.create(
        owner=owner, kind="email", address=f"{owner.username}@example.test", **kwargs
    )


def fire(user):
    services.alert_rule_create(
        owner=user,
        kind=AlertKind.PRICE_ABOVE,
        symbol="BTC",
        threshold=Decimal("100"),
        cooldown_seconds=0,
    )
    return AlertEngine().evaluate_price(price("BTC", "101"))


def test_engine_writes_one_delivery_per_enabled_channel(user, other_user):
    on = email_channel(user)
    email_channel(user, enabled=False)
    email_channel(other_user)
    (alert,) = fire(user)
    (delivery,) = Delivery.objects.filter(alert=alert)
    assert delivery.channel == on and delivery.state == DeliveryState.PENDING
    assert delivery.attempts == 0 and delivery.next_attempt_at <= timezone.now()


def test_deliveries_share_the_alerts_transaction(user, monkeypatch):
    email_channel(user)

    def broken(*, alert):
        raise RuntimeError("outbox write failed")

    monkeypatch.setattr(alerts_module, "deliveries_create_for_alert", broken)
    with pytest.raises(RuntimeError):
        fire(user)
    # Neither the alert nor the rule's count survived: all or nothing.
    assert Alert.objects.count() == 0
    assert AlertRule.objects.get().trigger_count == 0


def test_simulated_alerts_go_only_to_channels_that_opt_in(user, make_alert):
    email_channel(user)
    opted = email_channel(user, include_simulated=True)
    alert = make_alert(simulated=True, source="mock")
    created = outbox.deliveries_create_for_alert(alert=alert)
    assert [d.channel for d in created] == [opted]
    real = make_alert(simulated=False)
    assert len(outbox.deliveries_create_for_alert(alert=real)) == 2


def test_default_policy_retries_at_least_five_times_over_ten_minutes():
    policy = outbox.RetryPolicy()
    assert policy.max_attempts >= 5
    assert policy.minimum_span() >= 600
    rng = random.Random(1)
    waits = [policy.delay(n, rng) for n in range(1, 20)]
    assert all(0 < w <= policy.cap_seconds for w in waits)
    assert waits[-1] >= policy.cap_seconds / 2  # capped, not growing forever
    assert len({round(w, 6) for w in waits[-5:]}) == 5  # jittered


def test_settings_policy_is_configurable(settings):
    settings.NOTIFY_MAX_ATTEMPTS = 3
    settings.NOTIFY_RETRY_BASE_SECONDS = 0.1
    settings.NOTIFY_RETRY_MAX_SECONDS = 0.2
    policy = outbox.RetryPolicy.from_settings()
    assert (policy.max_attempts, policy.ceiling(1), policy.ceiling(9)) == (3, 0.1, 0.2)


def _pending(user, make_alert) -> Delivery:
    email_channel(user)
    (delivery,) = outbox.deliveries_create_for_alert(alert=make_alert())
    return delivery


def test_a_claimed_row_is_nobody_elses_until_its_lease_ends(user, make_alert):
    delivery = _pending(user, make_alert)
    (claimed,) = outbox.delivery_claim_due(limit=10, lease_seconds=30)
    assert claimed.pk == delivery.pk and claimed.attempts == 1
    assert outbox.delivery_claim_due(limit=10, lease_seconds=30) == []
    # A killed worker never settles; after the lease another worker takes it.
    later = timezone.now() + timedelta(seconds=31)
    (again,) = outbox.delivery_claim_due(limit=10, lease_seconds=30, now=later)
    assert again.attempts == 2 and again.lease_token != claimed.lease_token
    # The first claimant's late failure is not recorded over the new lease.
    outbox.delivery_settle(delivery=claimed, ok=False, error="late")
    assert Delivery.objects.get().lease_token == again.lease_token


def test_sent_is_final(user, make_alert):
    _pending(user, make_alert)
    (claimed,) = outbox.delivery_claim_due(limit=1, lease_seconds=30)
    assert outbox.delivery_settle(delivery=claimed, ok=True, status=200) == "sent"
    later = timezone.now() + timedelta(days=1)
    assert outbox.delivery_claim_due(limit=10, lease_seconds=30, now=later) == []
    row = Delivery.objects.get()
    assert row.state == "sent" and row.sent_at and row.last_status == 200


def test_failures_back_off_then_fail_for_good(user, make_alert):
    _pending(user, make_alert)
    policy = outbox.RetryPolicy(max_attempts=3, base_seconds=10, cap_seconds=10)
    now = timezone.now()
    for attempt in (1, 2):
        (claimed,) = outbox.delivery_claim_due(limit=1, lease_seconds=30, now=now)
        assert claimed.attempts == attempt
        state = outbox.delivery_settle(
            delivery=claimed, ok=False, error="HTTP 503", policy=policy, now=now
        )
        assert state == "pending"
        row = Delivery.objects.get()
        wait = (row.next_attempt_at - now).total_seconds()
        assert 5 <= wait <= 10 and row.last_error == "HTTP 503"
        assert outbox.delivery_claim_due(limit=1, lease_seconds=30, now=now) == []
        now = row.next_attempt_at
    (claimed,) = outbox.delivery_claim_due(limit=1, lease_seconds=30, now=now)
    outbox.delivery_settle(delivery=claimed, ok=False, error="x", policy=policy)
    assert Delivery.objects.get().state == "failed"
    assert Delivery.objects.get().attempts == 3


def test_permanent_failure_is_not_retried(user, make_alert):
    _pending(user, make_alert)
    (claimed,) = outbox.delivery_claim_due(limit=1, lease_seconds=30)
    state = outbox.delivery_settle(
        delivery=claimed, ok=False, permanent=True, status=410, error="gone"
    )
    assert state == "failed"
    later = timezone.now() + timedelta(days=1)
    assert outbox.delivery_claim_due(limit=10, lease_seconds=30, now=later) == []
