"""Thin ledger views: transactions CRUD, CSV import and export, cost method."""

from __future__ import annotations

from typing import Any

from django.http import HttpResponse
from django.utils import timezone
from drf_spectacular.utils import extend_schema
from rest_framework import status, viewsets
from rest_framework.decorators import action
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from ..ledger import csv_generic, imports
from ..ledger import selectors as ledger_selectors
from ..ledger import services as ledger_services
from ..ledger.models import Transaction
from . import ledger_serializers as ls
from .views import OwnedViewSetMixin


class TransactionViewSet(OwnedViewSetMixin, viewsets.ModelViewSet):
    """Your ledger: buys, sells and transfers, newest first."""

    serializer_class = ls.TransactionSerializer
    model = Transaction
    http_method_names = ["get", "post", "put", "patch", "delete", "head", "options"]

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Transaction.objects.none()
        filters: dict[str, Any] = {}
        if self.action in ("list", "export"):
            query = ls.TransactionFilterSerializer(data=self.request.query_params)
            query.is_valid(raise_exception=True)
            filters = query.validated_data
        return ledger_selectors.transaction_list(owner=self.request.user, **filters)

    @extend_schema(parameters=[ls.TransactionFilterSerializer])
    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().list(request, *args, **kwargs)

    def perform_create(self, serializer):
        serializer.instance = ledger_services.transaction_create(
            owner=self.request.user, **serializer.validated_data
        )

    def perform_update(self, serializer):
        serializer.instance = ledger_services.transaction_update(
            txn=serializer.instance, data=serializer.validated_data
        )

    def perform_destroy(self, instance):
        ledger_services.transaction_delete(txn=instance)

    @extend_schema(
        request={"multipart/form-data": ls.ImportRequestSerializer},
        responses={200: ls.ImportResultSerializer, 201: ls.ImportResultSerializer},
    )
    @action(
        detail=False,
        methods=["post"],
        url_path="import",
        parser_classes=[MultiPartParser, FormParser],
    )
    def import_file(self, request: Request) -> Response:
        """Import a generic, Coinbase or Binance CSV (all rows or none)."""
        body = ls.ImportRequestSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        try:
            summary = imports.transactions_import(
                owner=request.user,
                content=data["file"].read(),
                dry_run=data["dry_run"],
                format=data.get("format"),
            )
        except imports.ImportRefused as exc:
            return Response(
                {"file": [exc.message], "errors": exc.errors},
                status=status.HTTP_400_BAD_REQUEST,
            )
        created = summary["created"] and not summary["dry_run"]
        return Response(
            summary, status=status.HTTP_201_CREATED if created else status.HTTP_200_OK
        )

    @extend_schema(
        parameters=[ls.TransactionFilterSerializer],
        responses={(200, "text/csv"): str},
    )
    @action(detail=False, methods=["get"], url_path="export")
    def export(self, request: Request) -> HttpResponse:
        """The generic CSV of your ledger (filters apply), oldest first."""
        rows = self.get_queryset().order_by("executed_at", "id")
        response = HttpResponse(
            csv_generic.export(rows), content_type="text/csv; charset=utf-8"
        )
        stamp = timezone.now().strftime("%Y%m%d-%H%M%S")
        response["Content-Disposition"] = f'attachment; filename="ledger-{stamp}.csv"'
        return response


class LedgerSettingsView(APIView):
    """Your cost method: FIFO (default) or average cost."""

    @extend_schema(responses=ls.LedgerSettingsSerializer)
    def get(self, request: Request) -> Response:
        method = ledger_selectors.cost_method(owner=request.user)
        return Response({"cost_method": method})

    @extend_schema(
        request=ls.LedgerSettingsSerializer, responses=ls.LedgerSettingsSerializer
    )
    def patch(self, request: Request) -> Response:
        body = ls.LedgerSettingsSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        row = ledger_services.ledger_settings_update(
            owner=request.user, cost_method=body.validated_data["cost_method"]
        )
        return Response({"cost_method": row.cost_method})
