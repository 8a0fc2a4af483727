"""API shapes of notification channels and deliveries; secrets go in, never out."""

from __future__ import annotations

from rest_framework import serializers

from ..notifications.channels import secret_hint, target_hint
from ..notifications.models import ChannelKind, Delivery, NotificationChannel

__all__ = [
    "DeliverySerializer",
    "NotificationChannelSerializer",
    "ChannelTestResultSerializer",
]


class DeliverySerializer(serializers.ModelSerializer):
    """One alert's delivery to one channel: pending / sent / failed."""

    channel_name = serializers.SerializerMethodField()

    class Meta:
        model = Delivery
        fields = [
            "id",
            "channel",
            "channel_name",
            "kind",
            "delivery_id",
            "state",
            "attempts",
            "last_error",
            "last_status",
            "next_attempt_at",
            "sent_at",
        ]
        read_only_fields = fields

    def get_channel_name(self, obj: Delivery) -> str:
        channel = obj.channel
        if channel is None:
            return "(deleted channel)"
        return channel.name or channel.get_kind_display()


class NotificationChannelSerializer(serializers.ModelSerializer):
    kind = serializers.ChoiceField(choices=ChannelKind.choices)
    url = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=2000,
        help_text="webhook: the http(s) URL that receives a signed JSON POST.",
    )
    secret = serializers.CharField(
        required=False,
        allow_blank=True,
        write_only=True,
        max_length=200,
        trim_whitespace=False,
        help_text="webhook: HMAC-SHA256 key (16+ characters) for "
        "X-Portfolio-Signature. Never shown again; leave out to keep it.",
    )
    address = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=254,
        help_text="email: where alerts are mailed.",
    )
    apprise_url = serializers.CharField(
        required=False,
        allow_blank=True,
        write_only=True,
        max_length=2000,
        help_text="apprise: any Apprise URL (ntfy://, tgram://, discord://, ...). "
        "It holds credentials, so only a masked form is shown.",
    )
    secret_set = serializers.SerializerMethodField()
    secret_hint = serializers.SerializerMethodField()
    target = serializers.SerializerMethodField()

    class Meta:
        model = NotificationChannel
        fields = [
            "id",
            "kind",
            "name",
            "enabled",
            "include_simulated",
            "url",
            "secret",
            "secret_set",
            "secret_hint",
            "address",
            "apprise_url",
            "target",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["id", "created_at", "updated_at"]

    def get_secret_set(self, obj: NotificationChannel) -> bool:
        return bool(obj.secret)

    def get_secret_hint(self, obj: NotificationChannel) -> str:
        return secret_hint(obj.secret)

    def get_target(self, obj: NotificationChannel) -> str:
        """Where messages go, credentials masked."""
        return target_hint(obj)


class ChannelTestResultSerializer(serializers.Serializer):
    ok = serializers.BooleanField()
    permanent = serializers.BooleanField()
    status = serializers.IntegerField(allow_null=True)
    error = serializers.CharField(allow_blank=True)
