"""Fixtures of the notification tests: receivers on 127.0.0.1, alerts, channels."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from portfolio.models import Alert, AlertKind
from portfolio.notifications import channels
from tests.portfolio.test_commands import free_port

from .receivers import HttpReceiver, SmtpReceiver


@pytest.fixture
def allow_private(settings):
    """The drills run on 127.0.0.1, which the SSRF guard refuses by default."""
    settings.NOTIFY_ALLOW_PRIVATE_ADDRESSES = True
    return settings


@pytest.fixture
def fast_retries(settings):
    settings.NOTIFY_MAX_ATTEMPTS = 5
    settings.NOTIFY_RETRY_BASE_SECONDS = 0.2
    settings.NOTIFY_RETRY_MAX_SECONDS = 0.5
    settings.NOTIFY_TIMEOUT = 2.0
    settings.NOTIFY_POLL_SECONDS = 0.05
    settings.NOTIFY_LEASE_SECONDS = 10.0
    return settings


@pytest.fixture
def receiver():
    started: list[HttpReceiver] = []

    def start(**kwargs) -> HttpReceiver:
        started.append(HttpReceiver(**kwargs).start())
        return started[-1]

    yield start
    for r in started:
        r.stop()


@pytest.fixture
def smtp(settings):
    server = SmtpReceiver(free_port()).start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", server.port
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
    yield server
    server.stop()


@pytest.fixture
def make_alert(user):
    def make(owner=None, *, simulated: bool = False, source: str = "binance"):
        return Alert.objects.create(
            owner=owner or user,
            kind=AlertKind.PRICE_ABOVE,
            symbol="BTC",
            threshold=Decimal("65000"),
            observed_value=Decimal("65010.123456789012345678"),
            message="BTC price 65,010.12 USD rose above 65,000 USD",
            triggered_at=datetime(2026, 1, 2, 12, 0, tzinfo=UTC),
            source=source,
            simulated=simulated,
        )

    return make


SECRET = "s3cret-for-tests-0123456789"


@pytest.fixture
def webhook(user, allow_private):
    def make(url: str, owner=None, **kwargs):
        return channels.channel_create(
            owner=owner or user, kind="webhook", url=url, secret=SECRET, **kwargs
        )

    return make
