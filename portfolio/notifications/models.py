"""Notification channels of a user and the outbox rows that deliver alerts to them.

Registered with the ``portfolio`` app (imported by ``portfolio.models``); the
foreign keys are strings so this module imports nothing of the domain models.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models


class ChannelKind(models.TextChoices):
    WEBHOOK = "webhook", "Webhook"
    EMAIL = "email", "E-mail"
    APPRISE = "apprise", "Apprise"


class NotificationChannel(models.Model):
    """Somewhere outside the browser where a user's alerts are sent."""

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="notification_channels",
    )
    kind = models.CharField(max_length=10, choices=ChannelKind.choices)
    name = models.CharField(max_length=100, blank=True, default="")
    enabled = models.BooleanField(default=True)
    include_simulated = models.BooleanField(
        default=False,
        help_text="Also send alerts that rest on simulated (mock) prices.",
    )
    # webhook
    url = models.URLField(max_length=2000, blank=True, default="")
    secret = models.CharField(max_length=200, blank=True, default="")
    # email
    address = models.EmailField(blank=True, default="")
    # apprise: the URL holds the service's credentials, so it is a secret too
    apprise_url = models.CharField(max_length=2000, blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["id"]
        indexes = [models.Index(fields=["owner", "enabled"])]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.name or self.pk} ({self.owner})"


class DeliveryState(models.TextChoices):
    PENDING = "pending", "Pending"
    SENT = "sent", "Sent"
    FAILED = "failed", "Failed"


class Delivery(models.Model):
    """One alert to one channel: written with the alert, settled by the worker."""

    alert = models.ForeignKey(
        "portfolio.Alert", on_delete=models.CASCADE, related_name="deliveries"
    )
    # Kept when the channel is deleted: the record of what was sent stays.
    channel = models.ForeignKey(
        NotificationChannel,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="deliveries",
    )
    kind = models.CharField(max_length=10, choices=ChannelKind.choices)
    # X-Portfolio-Delivery: the same on every attempt, so receivers de-duplicate.
    delivery_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    state = models.CharField(
        max_length=10, choices=DeliveryState.choices, default=DeliveryState.PENDING
    )
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField()
    # A claim by one worker: nobody else sends the row before lease_until.
    lease_until = models.DateTimeField(null=True, blank=True)
    lease_token = models.CharField(max_length=32, blank=True, default="")
    last_error = models.CharField(max_length=500, blank=True, default="")
    last_status = models.PositiveIntegerField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["id"]
        verbose_name_plural = "deliveries"
        constraints = [
            models.UniqueConstraint(
                fields=["alert", "channel"], name="delivery_unique_alert_channel"
            )
        ]
        indexes = [models.Index(fields=["state", "next_attempt_at"])]

    def __str__(self) -> str:
        return f"alert {self.alert_id} → {self.kind} {self.channel_id}: {self.state}"
