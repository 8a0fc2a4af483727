"""REST for notification channels: owner-scoped CRUD and a test send."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from ..notifications import channels, senders
from ..notifications.models import NotificationChannel
from . import notification_serializers as ns
from .views import OwnedViewSetMixin

__all__ = ["NotificationChannelViewSet"]


class NotificationChannelViewSet(OwnedViewSetMixin, viewsets.ModelViewSet):
    """Your notification channels: webhooks, e-mail addresses, Apprise services."""

    serializer_class = ns.NotificationChannelSerializer
    model = NotificationChannel
    list_selector = staticmethod(channels.channel_list)
    http_method_names = ["get", "post", "put", "patch", "delete", "head", "options"]

    def perform_create(self, serializer):
        serializer.instance = channels.channel_create(
            owner=self.request.user, **serializer.validated_data
        )

    def perform_update(self, serializer):
        serializer.instance = channels.channel_update(
            channel=serializer.instance, data=serializer.validated_data
        )

    def perform_destroy(self, instance):
        channels.channel_delete(channel=instance)

    @extend_schema(request=None, responses=ns.ChannelTestResultSerializer)
    @action(detail=True, methods=["post"])
    def test(self, request: Request, pk: str | None = None) -> Response:
        """Send a test message now; the answer says whether it arrived."""
        result = senders.send_test(self.get_object())
        return Response(
            {
                "ok": result.ok,
                "permanent": result.permanent,
                "status": result.status,
                "error": result.error,
            }
        )
