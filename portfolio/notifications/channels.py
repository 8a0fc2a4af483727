"""A user's notification channels: create, change, delete, test, and show safely.

Validation happens here so the API, the admin and the settings page refuse the
same things in the same words: http(s) webhooks only, no internal addresses
(unless ``NOTIFY_ALLOW_PRIVATE_ADDRESSES``), Apprise URLs that Apprise knows,
and at most ``NOTIFY_MAX_CHANNELS_PER_USER`` channels each.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import QuerySet

from . import safety
from .models import ChannelKind, NotificationChannel

__all__ = [
    "channel_list",
    "channel_create",
    "channel_update",
    "channel_delete",
    "channel_validate",
    "secret_hint",
    "target_hint",
]

CHANNEL_FIELDS = (
    "kind",
    "name",
    "enabled",
    "include_simulated",
    "url",
    "secret",
    "address",
    "apprise_url",
)
# Which target fields each kind uses; the others must stay empty.
KIND_FIELDS = {
    ChannelKind.WEBHOOK: ("url", "secret"),
    ChannelKind.EMAIL: ("address",),
    ChannelKind.APPRISE: ("apprise_url",),
}
FIELD_LABELS = {
    "url": "a webhook URL",
    "secret": "a signing secret",
    "address": "an e-mail address",
    "apprise_url": "an Apprise URL",
}
MIN_SECRET = 16


def channel_list(*, owner: AbstractBaseUser) -> QuerySet[NotificationChannel]:
    return NotificationChannel.objects.filter(owner=owner).order_by("id")


def secret_hint(secret: str) -> str:
    """The last four characters only: enough to recognise, useless to an attacker."""
    return f"…{secret[-4:]}" if len(secret) >= MIN_SECRET else ("…" if secret else "")


def target_hint(channel: NotificationChannel) -> str:
    """Where it goes, with credentials hidden (Apprise URLs carry tokens)."""
    if channel.kind == ChannelKind.WEBHOOK:
        return channel.url
    if channel.kind == ChannelKind.EMAIL:
        return channel.address
    import apprise

    plugin = apprise.Apprise.instantiate(channel.apprise_url)
    if plugin is None:
        return "(invalid Apprise URL)"
    return plugin.url(privacy=True).split("?", 1)[0]


def _check_webhook(channel: NotificationChannel) -> dict[str, str]:
    errors: dict[str, str] = {}
    try:
        safety.check_url(channel.url)
    except safety.UnsafeTarget as exc:
        errors["url"] = str(exc)
    except ValueError as exc:
        errors["url"] = str(exc)
    if channel.secret and len(channel.secret) < MIN_SECRET:
        errors["secret"] = f"Use a secret of at least {MIN_SECRET} characters."
    return errors


def _check_apprise(channel: NotificationChannel) -> dict[str, str]:
    import apprise

    plugin = apprise.Apprise.instantiate(channel.apprise_url)
    if plugin is None:
        return {
            "apprise_url": "Apprise does not recognise this URL; see "
            "https://github.com/caronc/apprise/wiki for the services and formats."
        }
    try:
        safety.check_host(getattr(plugin, "host", "") or "", missing_ok=True)
    except safety.UnsafeTarget as exc:
        return {"apprise_url": str(exc)}
    return {}


def channel_validate(channel: NotificationChannel) -> None:
    """Raise ValidationError with per-field messages a user can act on."""
    errors: dict[str, str] = {}
    kind = channel.kind
    if kind not in KIND_FIELDS:
        raise ValidationError({"kind": "Choose webhook, email or apprise."})
    for field in KIND_FIELDS[kind]:
        if not getattr(channel, field):
            errors[field] = f"A {kind} channel needs {FIELD_LABELS[field]}."
    unused = {f for fields in KIND_FIELDS.values() for f in fields}
    for field in sorted(unused - set(KIND_FIELDS[kind])):
        if getattr(channel, field):
            errors[field] = f"Not used by a {kind} channel; leave it empty."
    if not errors and kind == ChannelKind.WEBHOOK:
        errors.update(_check_webhook(channel))
    if not errors and kind == ChannelKind.APPRISE:
        errors.update(_check_apprise(channel))
    if errors:
        raise ValidationError(errors)
    channel.full_clean(exclude=["owner"])


def _check_quota(owner: AbstractBaseUser) -> None:
    limit = settings.NOTIFY_MAX_CHANNELS_PER_USER
    if NotificationChannel.objects.filter(owner=owner).count() >= limit:
        raise ValidationError(
            f"You have {limit} notification channels, the most allowed; "
            "delete one before adding another."
        )


@transaction.atomic
def channel_create(*, owner: AbstractBaseUser, **data: Any) -> NotificationChannel:
    _check_quota(owner)
    channel = NotificationChannel(
        owner=owner, **{k: v for k, v in data.items() if k in CHANNEL_FIELDS}
    )
    channel_validate(channel)
    channel.save()
    return channel


@transaction.atomic
def channel_update(
    *, channel: NotificationChannel, data: dict[str, Any]
) -> NotificationChannel:
    """Change the given fields; a secret left out is kept (it is never shown)."""
    for name, value in data.items():
        if name in CHANNEL_FIELDS:
            setattr(channel, name, value)
    if "kind" in data:
        # Switching kind: the old kind's targets no longer apply.
        for kind, fields in KIND_FIELDS.items():
            if kind != channel.kind:
                for field in fields:
                    if field not in data:
                        setattr(channel, field, "")
    channel_validate(channel)
    channel.save()
    return channel


@transaction.atomic
def channel_delete(*, channel: NotificationChannel) -> None:
    """Delete the channel; its past deliveries stay as records."""
    channel.delete()
