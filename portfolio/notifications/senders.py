"""Send one message to one channel: webhook (signed POST), e-mail, Apprise.

Synchronous and bounded by ``NOTIFY_TIMEOUT``: the worker runs these in its
own thread pool, never on the event loop or the worker's database thread.
Each returns a :class:`SendResult`; nothing here raises for a receiver's fault.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from typing import Any

import urllib3
from django.conf import settings
from django.core.mail import EmailMessage, get_connection

from . import payload, safety
from .models import ChannelKind, NotificationChannel

__all__ = ["SendResult", "send", "send_test", "classify_status"]

logger = logging.getLogger(__name__)

MAX_REDIRECTS = 3
USER_AGENT = "crypto-portfolio-analyzer-notify/1"
ERROR_MAX = 500


@dataclass(frozen=True)
class SendResult:
    """The outcome of one attempt; ``permanent`` failures are never retried."""

    ok: bool
    permanent: bool = False
    status: int | None = None
    error: str = ""

    @classmethod
    def failure(cls, error: str, *, permanent: bool = False, status: int | None = None):
        return cls(False, permanent, status, error[:ERROR_MAX])


def classify_status(status: int) -> SendResult:
    """2xx ends it; a 4xx other than 408/429 will not get better by retrying."""
    if 200 <= status < 300:
        return SendResult(True, status=status)
    permanent = 400 <= status < 500 and status not in (408, 429)
    return SendResult.failure(
        f"The receiver answered HTTP {status}.", permanent=permanent, status=status
    )


def send(
    channel: NotificationChannel,
    *,
    delivery_id: str,
    alert: dict[str, Any] | None,
) -> SendResult:
    """One attempt to ``channel``; ``alert`` None sends a test message."""
    try:
        if channel.kind == ChannelKind.WEBHOOK:
            return _webhook(channel, delivery_id, alert)
        if channel.kind == ChannelKind.EMAIL:
            return _email(channel, alert)
        if channel.kind == ChannelKind.APPRISE:
            return _apprise(channel, alert)
    except safety.UnsafeTarget as exc:
        return SendResult.failure(str(exc), permanent=True)
    except Exception as exc:  # noqa: BLE001 - a sender bug must not kill the loop
        logger.warning("Sending to channel %s failed", channel.pk, exc_info=True)
        return SendResult.failure(f"{type(exc).__name__}: {exc}")
    return SendResult.failure(f"Unknown channel kind {channel.kind!r}.", permanent=True)


def send_test(channel: NotificationChannel) -> SendResult:
    """A test message now (bounded by NOTIFY_TIMEOUT), outside the outbox."""
    return send(channel, delivery_id=f"test-{uuid.uuid4()}", alert=None)


def _webhook(
    channel: NotificationChannel, delivery_id: str, alert: dict[str, Any] | None
) -> SendResult:
    body = payload.webhook_body(
        delivery_id=delivery_id, alert=alert, test=alert is None
    )
    headers = {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        payload.DELIVERY_HEADER: delivery_id,
        payload.SIGNATURE_HEADER: payload.signature(channel.secret, body),
    }
    safety.check_url(channel.url)
    timeout = urllib3.Timeout(
        connect=settings.NOTIFY_TIMEOUT, read=settings.NOTIFY_TIMEOUT
    )
    with safety.guarded_connections() as guard:
        try:
            # Redirects are followed (each hop's connection goes through the
            # guard); 307/308 keep the POST and its body.
            response = urllib3.request(
                "POST",
                channel.url,
                body=body,
                headers=headers,
                timeout=timeout,
                retries=urllib3.Retry(
                    total=MAX_REDIRECTS,
                    connect=0,
                    read=0,
                    status=0,
                    other=0,
                    redirect=MAX_REDIRECTS,
                    raise_on_redirect=True,
                ),
                preload_content=False,
            )
        except urllib3.exceptions.HTTPError as exc:
            if guard.refused:
                return SendResult.failure(guard.refused, permanent=True)
            return SendResult.failure(_reason(exc))
    response.drain_conn()  # the body is not needed; the status decides
    response.release_conn()
    return classify_status(response.status)


def _reason(exc: Exception) -> str:
    reason = getattr(exc, "reason", None) or exc
    return f"{type(reason).__name__}: {reason}"


def _email(channel: NotificationChannel, alert: dict[str, Any] | None) -> SendResult:
    import smtplib

    connection = get_connection(timeout=settings.NOTIFY_TIMEOUT)
    message = EmailMessage(
        subject=payload.subject(alert),
        body=payload.text(alert),
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[channel.address],
        connection=connection,
    )
    try:
        message.send(fail_silently=False)
    except smtplib.SMTPRecipientsRefused as exc:
        return SendResult.failure(
            f"The mail server refused the address: {exc}", permanent=True
        )
    except smtplib.SMTPResponseException as exc:
        # 5xx replies are permanent in SMTP; 4xx are "try again later".
        return SendResult.failure(
            f"The mail server answered {exc.smtp_code}.", permanent=exc.smtp_code >= 500
        )
    except OSError as exc:
        return SendResult.failure(f"{type(exc).__name__}: {exc}")
    return SendResult(True)


def _apprise(channel: NotificationChannel, alert: dict[str, Any] | None) -> SendResult:
    import apprise

    plugin = apprise.Apprise.instantiate(channel.apprise_url)
    if plugin is None:
        return SendResult.failure("Not a valid Apprise URL.", permanent=True)
    safety.check_host(getattr(plugin, "host", "") or "", missing_ok=True)
    plugin.socket_connect_timeout = settings.NOTIFY_TIMEOUT
    plugin.socket_read_timeout = settings.NOTIFY_TIMEOUT
    notifier = apprise.Apprise()
    notifier.add(plugin)
    with safety.guarded_connections() as guard:
        ok = notifier.notify(title=payload.subject(alert), body=payload.text(alert))
    if guard.refused:
        return SendResult.failure(guard.refused, permanent=True)
    if not ok:
        # Apprise reports only success or not (details are in its log).
        return SendResult.failure("The Apprise service did not accept the message.")
    return SendResult(True)
