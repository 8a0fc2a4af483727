"""Thin API views: parse input, call a selector or service, shape the output.

Every queryset is scoped to ``request.user``: another user's object is a 404.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.auth import authenticate
from django.core.cache import cache
from django.urls import Resolver404, resolve
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, permissions, status, viewsets
from rest_framework.authentication import (
    BasicAuthentication,
    SessionAuthentication,
    TokenAuthentication,
)
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from streaming import price_cache

from .. import history, selectors, services, valuation
from ..ledger import position_cache
from ..market import reports
from ..models import Alert, AlertRule, Holding, WatchedSymbol
from . import serializers as s

STREAMS_STATUS_KEY = "streams-status"


class OwnedViewSetMixin:
    """Objects of the requesting user only; ids are integers (anything else 404s)."""

    lookup_value_regex = r"\d+"
    model: type = Holding
    request: Request

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return self.model.objects.none()
        return self.list_selector(owner=self.request.user)


class HoldingViewSet(OwnedViewSetMixin, viewsets.ModelViewSet):
    """Your holdings: one row per symbol."""

    serializer_class = s.HoldingSerializer
    model = Holding
    list_selector = staticmethod(selectors.holding_list)
    http_method_names = ["get", "post", "put", "patch", "delete", "head", "options"]

    def perform_create(self, serializer):
        serializer.instance = services.holding_create(
            owner=self.request.user, **serializer.validated_data
        )

    def perform_update(self, serializer):
        serializer.instance = services.holding_update(
            holding=serializer.instance, data=serializer.validated_data
        )

    def perform_destroy(self, instance):
        services.holding_delete(holding=instance)


class WatchListViewSet(
    OwnedViewSetMixin,
    mixins.ListModelMixin,
    mixins.CreateModelMixin,
    mixins.RetrieveModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    """Symbols you follow without holding them (shown as ticker rows)."""

    serializer_class = s.WatchedSymbolSerializer
    model = WatchedSymbol
    list_selector = staticmethod(selectors.watch_list)

    def perform_create(self, serializer):
        serializer.instance = services.watch_add(
            owner=self.request.user, **serializer.validated_data
        )

    def perform_destroy(self, instance):
        services.watch_remove(entry=instance)


class AlertRuleViewSet(OwnedViewSetMixin, viewsets.ModelViewSet):
    """Your alert rules (edge-triggered, with cooldown, optionally one-shot)."""

    serializer_class = s.AlertRuleSerializer
    model = AlertRule
    list_selector = staticmethod(selectors.alert_rule_list)

    def perform_create(self, serializer):
        serializer.instance = services.alert_rule_create(
            owner=self.request.user, **serializer.validated_data
        )

    def perform_update(self, serializer):
        serializer.instance = services.alert_rule_update(
            rule=serializer.instance, data=serializer.validated_data
        )

    def perform_destroy(self, instance):
        services.alert_rule_delete(rule=instance)


class AlertViewSet(
    OwnedViewSetMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    viewsets.GenericViewSet,
):
    """Your triggered alerts: unacknowledged first, then newest first."""

    serializer_class = s.AlertSerializer
    model = Alert

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Alert.objects.none()
        acknowledged = None
        if self.action == "list":
            query = s.AlertFilterSerializer(data=self.request.query_params)
            query.is_valid(raise_exception=True)
            acknowledged = query.validated_data["acknowledged"]
        return selectors.alert_list(owner=self.request.user, acknowledged=acknowledged)

    @extend_schema(
        parameters=[
            OpenApiParameter(
                "acknowledged",
                OpenApiTypes.BOOL,
                description="true: acknowledged only; false: unacknowledged only.",
            )
        ]
    )
    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().list(request, *args, **kwargs)

    @extend_schema(request=None, responses=s.AlertSerializer)
    @action(detail=True, methods=["post"])
    def acknowledge(self, request: Request, pk: str | None = None) -> Response:
        """Acknowledge one alert (idempotent)."""
        alert = self.get_object()
        services.alert_acknowledge(owner=request.user, alert_ids=[alert.pk])
        alert.refresh_from_db()
        return Response(s.AlertSerializer(alert).data)

    @extend_schema(
        operation_id="alerts_acknowledge_many",
        request=s.AlertAcknowledgeSerializer,
        responses=s.AcknowledgedCountSerializer,
    )
    @action(detail=False, methods=["post"], url_path="acknowledge")
    def acknowledge_many(self, request: Request) -> Response:
        """Acknowledge several of your alerts by id (idempotent)."""
        body = s.AlertAcknowledgeSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        count = services.alert_acknowledge(
            owner=request.user, alert_ids=body.validated_data["ids"]
        )
        return Response({"acknowledged": count})


class PortfolioView(APIView):
    """Live valuation of your holdings from the latest cached prices."""

    @extend_schema(responses=s.PortfolioSummarySerializer)
    def get(self, request: Request) -> Response:
        # Replayed from the ledger (cached until it changes): closed positions
        # carry realized P/L only.
        holdings = position_cache.positions(owner=request.user)
        prices = price_cache.get_prices({h.symbol for h in holdings if h.amount})
        summary = valuation.portfolio_summary(
            holdings=holdings,
            prices=prices,
            now=timezone.now(),
            stale_after=settings.PRICE_STALE_AFTER,
        )
        return Response(summary)


class PortfolioHistoryView(APIView):
    """Your portfolio value over a range: from the ledger and exchange candles
    (24h and beyond), or the live snapshots (1h; no transactions)."""

    @extend_schema(
        parameters=[s.HistoryQuerySerializer], responses=s.PortfolioHistorySerializer
    )
    def get(self, request: Request) -> Response:
        query = s.HistoryQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        name = query.validated_data["range"]
        end = timezone.now()
        body = reports.portfolio_history(owner=request.user, name=name, now=end)
        return Response(body or self._snapshots(request, name, end))

    def _snapshots(self, request: Request, name: str, end) -> dict[str, Any]:
        start = end - history.RANGES[name]
        rows = list(selectors.snapshot_list(owner=request.user, since=start))
        if name == "all" and rows:
            start = rows[0][0]
        points = history.downsample(rows, start=start, end=end)
        return {
            "range": name,
            "start": start.isoformat(),
            "end": end.isoformat(),
            "basis": "snapshots",
            "interval": None,
            "market_data": any(not simulated for _, _, simulated in points),
            "note": None,
            "summary": None,
            "points": [
                {
                    "timestamp": t.isoformat(),
                    "value": valuation.decimal_str(v),
                    "simulated": simulated,
                    "source": "simulated" if simulated else "snapshot",
                    "net_invested": None,
                    "performance": None,
                    "missing": [],
                }
                for t, v, simulated in points
            ],
        }


class PriceHistoryView(APIView):
    """One asset's closing prices over a range, from stored exchange candles."""

    @extend_schema(
        parameters=[s.HistoryQuerySerializer], responses=s.PriceHistorySerializer
    )
    def get(self, request: Request, symbol: str) -> Response:
        query = s.PriceHistoryQuerySerializer(
            data={**request.query_params.dict(), "symbol": symbol}
        )
        query.is_valid(raise_exception=True)
        body = reports.price_history(
            owner=request.user,
            symbol=query.validated_data["symbol"],
            name=query.validated_data["range"],
            now=timezone.now(),
        )
        return Response(body)


class PriceListView(APIView):
    """Latest price of each symbol you watch or hold (never others' holdings)."""

    @extend_schema(responses=s.PriceSerializer(many=True))
    def get(self, request: Request) -> Response:
        symbols = set(selectors.watch_symbols_of(owner=request.user)) | set(
            selectors.held_symbols(owner=request.user)
        )
        prices = price_cache.get_prices(symbols)
        now = timezone.now()
        return Response(
            [
                valuation.price_entry(
                    symbol,
                    prices.get(symbol),
                    now=now,
                    stale_after=settings.PRICE_STALE_AFTER,
                )
                for symbol in sorted(symbols)
            ]
        )


class StreamsStatusView(APIView):
    """Providers, stream metrics and bus stats as last stored by the feed worker."""

    permission_classes = [permissions.IsAdminUser]

    @extend_schema(responses=s.StreamsStatusSerializer)
    def get(self, request: Request) -> Response:
        status_dict = cache.get(STREAMS_STATUS_KEY)
        note = None
        if status_dict is None:
            note = "No status stored: the feed worker is not running or has not "
            note += "reported yet."
        from streaming.delivery.hub import get_connection_manager
        from streaming.delivery.rooms import PRICES, SYSTEM

        manager = get_connection_manager()
        connections = {
            "clients": manager.get_client_count(),
            "rooms": {
                room: manager.get_room_client_count(room) for room in (PRICES, SYSTEM)
            },
            "this_process": manager.get_local_client_count(),
        }
        return Response(
            {
                "available": status_dict is not None,
                "note": note,
                "status": status_dict,
                "connections": connections,
            }
        )


class TokenView(APIView):
    """Create (or return) your API token; DELETE revokes it at once."""

    # Token first: its WWW-Authenticate header makes a refusal a 401.
    authentication_classes = [
        TokenAuthentication,
        BasicAuthentication,
        SessionAuthentication,
    ]

    def get_permissions(self):
        if self.request.method == "POST":
            return [permissions.AllowAny()]
        return [permissions.IsAuthenticated()]

    @extend_schema(responses=s.TokenStateSerializer)
    def get(self, request: Request) -> Response:
        """Whether you have a token, and since when (the key is shown only once)."""
        token = selectors.token_of(user=request.user)
        return Response(
            {"exists": token is not None, "created": token and token.created}
        )

    @extend_schema(
        request=s.TokenRequestSerializer,
        responses={200: s.TokenSerializer, 201: s.TokenSerializer},
        description="Authenticated (session, basic or token): your token. "
        "Otherwise send username and password.",
    )
    def post(self, request: Request) -> Response:
        user = request.user if request.user.is_authenticated else self._credentials()
        token, created = services.token_get_or_create(user=user)
        return Response(
            {"token": token.key, "created": created},
            status=status.HTTP_201_CREATED if created else status.HTTP_200_OK,
        )

    @extend_schema(request=None, responses={204: None})
    def delete(self, request: Request) -> Response:
        if not services.token_revoke(user=request.user):
            raise NotFound("You have no API token.")
        return Response(status=status.HTTP_204_NO_CONTENT)

    def _credentials(self):
        body = s.TokenRequestSerializer(data=self.request.data)
        body.is_valid(raise_exception=True)
        username = body.validated_data.get("username")
        password = body.validated_data.get("password")
        if not username or not password:
            raise ValidationError(
                {"non_field_errors": ["Log in, or send username and password."]}
            )
        user = authenticate(self.request, username=username, password=password)
        if user is None:
            raise ValidationError(
                {"non_field_errors": ["Unable to log in with these credentials."]}
            )
        return user


class NotFoundView(APIView):
    """Any path under /api/ that names nothing: a JSON 404, whatever the method."""

    permission_classes = [permissions.AllowAny]
    schema = None

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        hint = "The endpoints are listed at /api/docs/."
        if not request.path.endswith("/"):
            try:
                match = resolve(request.path + "/")
            except Resolver404:
                match = None
            if match is not None and match.url_name != "api-not-found":
                hint = f"Did you mean {request.path}/ (with the final slash)?"
        raise NotFound(f"No such API endpoint. {hint}")
