"""Senders against real receivers on 127.0.0.1: signed webhook, SMTP, Apprise."""

from __future__ import annotations

import hashlib
import hmac
import json
from email import message_from_bytes

import pytest

from portfolio.notifications import safety, senders
from portfolio.notifications.models import ChannelKind, NotificationChannel
from portfolio.notifications.payload import alert_body

from .conftest import SECRET

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.timeout(30)]


def verify_as_a_receiver(secret: str, headers: dict[str, str], body: bytes) -> bool:
    """What a receiver does: HMAC the raw bytes, compare in constant time."""
    expected = "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, headers["X-Portfolio-Signature"])


def test_webhook_is_signed_and_carries_the_exact_alert(receiver, webhook, make_alert):
    hook = receiver()
    channel = webhook(hook.url)
    alert = make_alert(simulated=False, source="coinbase")
    result = senders.send(channel, delivery_id="d-1", alert=alert_body(alert))
    assert result.ok and result.status == 200
    (request,) = hook.requests
    assert verify_as_a_receiver(SECRET, request.headers, request.body)
    assert not verify_as_a_receiver(
        "another-secret-0123456", request.headers, request.body
    )
    assert request.headers["X-Portfolio-Delivery"] == "d-1"
    document = json.loads(request.body)
    assert document["type"] == "alert.triggered" and document["delivery_id"] == "d-1"
    sent = document["alert"]
    # Amounts are exact strings, never floats; provenance is included.
    assert sent["observed_value"] == "65010.123456789012345678"
    assert sent["threshold"] == "65000"
    assert sent["source"] == "coinbase" and sent["simulated"] is False
    assert sent["id"] == alert.pk and "deliveries" not in sent


@pytest.mark.parametrize(
    "status, ok, permanent",
    [
        (204, True, False),
        (410, False, True),
        (400, False, True),
        (404, False, True),
        (408, False, False),
        (429, False, False),
        (500, False, False),
        (503, False, False),
    ],
)
def test_status_decides_retry(receiver, webhook, make_alert, status, ok, permanent):
    hook = receiver(default=status)
    result = senders.send(
        webhook(hook.url), delivery_id="d", alert=alert_body(make_alert())
    )
    assert (result.ok, result.permanent, result.status) == (ok, permanent, status)


def test_unreachable_receiver_is_a_retryable_failure(webhook, make_alert):
    from tests.portfolio.test_commands import free_port

    channel = webhook(f"http://127.0.0.1:{free_port()}/hook")
    result = senders.send(channel, delivery_id="d", alert=alert_body(make_alert()))
    assert not result.ok and not result.permanent
    assert "refused" in result.error.lower() or "connection" in result.error.lower()


def test_hanging_receiver_times_out_within_the_limit(
    receiver, webhook, make_alert, settings
):
    import time

    settings.NOTIFY_TIMEOUT = 0.5
    hook = receiver(script=["hang"])
    started = time.monotonic()
    result = senders.send(
        webhook(hook.url), delivery_id="d", alert=alert_body(make_alert())
    )
    assert time.monotonic() - started < 3
    assert not result.ok and not result.permanent
    hook.release()


def test_redirect_to_an_internal_address_is_not_followed(
    receiver, webhook, make_alert, settings, monkeypatch
):
    # 127.0.0.1 stands in for a public receiver here; the redirect target is
    # the cloud metadata address, refused before any connection is made.
    real = safety.is_public_address
    monkeypatch.setattr(
        safety, "is_public_address", lambda ip: ip == "127.0.0.1" or real(ip)
    )
    hook = receiver(
        script=[307], redirect_to="http://169.254.169.254/latest/meta-data/"
    )
    channel = webhook(hook.url)
    settings.NOTIFY_ALLOW_PRIVATE_ADDRESSES = False
    result = senders.send(channel, delivery_id="d", alert=alert_body(make_alert()))
    assert len(hook.requests) == 1
    assert not result.ok and result.permanent
    assert "169.254.169.254" in result.error


def test_dns_that_turns_private_after_saving_is_refused_at_connect(
    receiver, webhook, make_alert, settings
):
    hook = receiver()
    channel = webhook(hook.url)  # saved while private addresses were allowed
    settings.NOTIFY_ALLOW_PRIVATE_ADDRESSES = False
    result = senders.send(channel, delivery_id="d", alert=alert_body(make_alert()))
    assert not result.ok and result.permanent
    assert hook.requests == []


def test_guard_is_installed_in_urllib3():
    assert safety.guard_installed()


def test_email_reaches_a_real_smtp_server(smtp, user, make_alert, settings):
    settings.DEFAULT_FROM_EMAIL = "alerts@example.test"
    channel = NotificationChannel.objects.create(
        owner=user, kind=ChannelKind.EMAIL, address="alice@example.test"
    )
    alert = make_alert(simulated=True, source="mock")
    result = senders.send(channel, delivery_id="d", alert=alert_body(alert))
    assert result.ok, result.error
    ((sender, recipients, content),) = smtp.messages
    assert sender == "alerts@example.test" and recipients == ["alice@example.test"]
    mail = message_from_bytes(content)
    assert mail["Subject"].startswith("[simulated] Alert: BTC price 65,010.12 USD")
    text = mail.get_payload(decode=True).decode()
    assert "Observed: 65010.123456789012345678" in text
    assert "simulated price" in text


def test_email_to_a_dead_smtp_server_is_retryable(settings, user, make_alert):
    from tests.portfolio.test_commands import free_port

    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", free_port()
    channel = NotificationChannel(
        owner=user, kind=ChannelKind.EMAIL, address="a@b.test"
    )
    result = senders.send(channel, delivery_id="d", alert=alert_body(make_alert()))
    assert not result.ok and not result.permanent


def test_apprise_json_target_receives_the_alert(
    receiver, allow_private, user, make_alert
):
    hook = receiver()
    target = f"json://127.0.0.1:{hook.port}/hook"
    channel = NotificationChannel(
        owner=user, kind=ChannelKind.APPRISE, apprise_url=target
    )
    result = senders.send(channel, delivery_id="d", alert=alert_body(make_alert()))
    assert result.ok, result.error
    (request,) = hook.requests
    sent = json.loads(request.body)
    assert "65,010.12" in sent["title"]
    assert "Observed: 65010.123456789012345678" in sent["message"]


def test_apprise_to_a_private_address_is_refused_when_not_allowed(user, make_alert):
    channel = NotificationChannel(
        owner=user, kind=ChannelKind.APPRISE, apprise_url="json://127.0.0.1:9/hook"
    )
    result = senders.send(channel, delivery_id="d", alert=alert_body(make_alert()))
    assert not result.ok and result.permanent


def test_apprise_failure_is_retryable(allow_private, receiver, user, make_alert):
    hook = receiver(default=503)
    channel = NotificationChannel(
        owner=user,
        kind=ChannelKind.APPRISE,
        apprise_url=f"json://127.0.0.1:{hook.port}/",
    )
    result = senders.send(channel, delivery_id="d", alert=alert_body(make_alert()))
    assert not result.ok and not result.permanent
