"""Admin: every model with the columns, filters and search an operator needs.

Amounts are stored with 18 decimal places; they are shown as the number they
are (``0.5``, not ``0.500000000000000000``). Records written by the worker
(alerts, deliveries, snapshots) are read-only here.
"""

from collections.abc import Callable
from decimal import Decimal
from typing import Any

from django import forms
from django.contrib import admin

from .fields import ExactDecimalField
from .models import Alert, AlertRule, Holding, PortfolioSnapshot, WatchedSymbol
from .notifications.channels import target_hint
from .notifications.models import Delivery, NotificationChannel

PRODUCT = "Crypto Portfolio Analyzer"
admin.site.site_header = PRODUCT
admin.site.site_title = PRODUCT
admin.site.index_title = "Administration"


def plain(value: Decimal | None) -> str:
    """0.500000000000000000 → 0.5, 1E+3 → 1000 (fixed-point, never exponent)."""
    if value is None:
        return "—"
    return format(value.normalize(), "f")


def trimmed(name: str) -> Callable[[Any], str]:
    """A column (or read-only field) showing the amount ``name`` without padding."""

    @admin.display(description=name.replace("_", " "), ordering=name)
    def show(obj: Any) -> str:
        return plain(getattr(obj, name))

    show.__name__ = f"{name}_plain"
    return show


class PlainDecimalInput(forms.TextInput):
    """The edit box shows the amount as typed, not with 18 trailing zeros."""

    def format_value(self, value: Any) -> str | None:
        if isinstance(value, Decimal):
            return plain(value)
        return super().format_value(value)


class PlainDecimalsAdmin(admin.ModelAdmin):
    formfield_overrides = {ExactDecimalField: {"widget": PlainDecimalInput}}


class RecordAdmin(PlainDecimalsAdmin):
    """Written by the worker, never by hand: view only."""

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Holding)
class HoldingAdmin(RecordAdmin):
    """View only: a holding is its owner's ledger replayed (portfolio/ledger), and
    the next sync would overwrite an edit made here. Change the transactions."""

    list_display = (
        "symbol",
        "owner",
        trimmed("amount"),
        trimmed("cost_basis"),
        "updated_at",
    )
    list_filter = ("symbol",)
    search_fields = ("symbol", "owner__username", "owner__email")
    list_select_related = ("owner",)
    fields = readonly_fields = (
        "owner",
        "symbol",
        trimmed("amount"),
        trimmed("cost_basis"),
        "created_at",
        "updated_at",
    )


@admin.register(AlertRule)
class AlertRuleAdmin(PlainDecimalsAdmin):
    list_display = (
        "id",
        "owner",
        "kind",
        "symbol",
        trimmed("threshold"),
        "enabled",
        "one_shot",
        "last_triggered_at",
        "trigger_count",
    )
    list_filter = ("kind", "enabled", "one_shot")
    search_fields = ("symbol", "owner__username")
    list_select_related = ("owner",)
    readonly_fields = ("last_triggered_at", "trigger_count", "created_at", "updated_at")


@admin.register(Alert)
class AlertAdmin(RecordAdmin):
    list_display = (
        "triggered_at",
        "owner",
        "kind",
        "symbol",
        trimmed("observed_value"),
        trimmed("threshold"),
        "source",
        "simulated",
        "acknowledged_at",
    )
    list_filter = (
        "kind",
        "simulated",
        "source",
        ("acknowledged_at", admin.EmptyFieldListFilter),
    )
    search_fields = ("message", "symbol", "owner__username")
    list_select_related = ("owner",)
    date_hierarchy = "triggered_at"
    fields = readonly_fields = (
        "rule",
        "owner",
        "kind",
        "symbol",
        trimmed("threshold"),
        "message",
        trimmed("observed_value"),
        "source",
        "simulated",
        "sequence",
        "triggered_at",
        "acknowledged_at",
    )


@admin.register(PortfolioSnapshot)
class PortfolioSnapshotAdmin(RecordAdmin):
    list_display = ("taken_at", "owner", trimmed("total_value"), "simulated")
    fields = readonly_fields = (
        "owner",
        trimmed("total_value"),
        "simulated",
        "taken_at",
    )
    list_filter = ("owner", "simulated")
    search_fields = ("owner__username",)
    date_hierarchy = "taken_at"
    list_select_related = ("owner",)


class DeliveryInline(admin.TabularInline):
    """Each alert's deliveries, read-only: the worker owns their state."""

    model = Delivery
    extra = 0
    can_delete = False
    fields = ("channel", "kind", "state", "attempts", "last_status", "last_error")
    readonly_fields = fields

    def has_add_permission(self, request, obj=None) -> bool:
        return False


AlertAdmin.inlines = [DeliveryInline]


@admin.register(NotificationChannel)
class NotificationChannelAdmin(admin.ModelAdmin):
    list_display = ("id", "owner", "kind", "name", "target", "enabled")
    list_filter = ("kind", "enabled", "include_simulated")
    search_fields = ("name", "owner__username", "address", "url")
    list_select_related = ("owner",)
    # Secrets (the signing key, Apprise URLs with tokens) are never shown.
    exclude = ("secret", "apprise_url")
    readonly_fields = ("target", "created_at", "updated_at")

    @admin.display(description="target")
    def target(self, obj: NotificationChannel) -> str:
        return target_hint(obj)


@admin.register(Delivery)
class DeliveryAdmin(RecordAdmin):
    list_display = (
        "id",
        "alert",
        "kind",
        "channel",
        "state",
        "attempts",
        "last_status",
        "error_short",
        "next_attempt_at",
        "sent_at",
    )
    list_filter = ("state", "kind")
    search_fields = ("alert__message", "channel__name", "last_error")
    list_select_related = ("alert", "channel")
    readonly_fields = [f.name for f in Delivery._meta.fields]

    @admin.display(description="last error", ordering="last_error")
    def error_short(self, obj: Delivery) -> str:
        # A full traceback-like error would stretch the table past the screen.
        text = obj.last_error or ""
        return text if len(text) <= 80 else text[:79] + "…"


@admin.register(WatchedSymbol)
class WatchedSymbolAdmin(admin.ModelAdmin):
    list_display = ("symbol", "owner", "created_at")
    list_filter = ("symbol",)
    search_fields = ("symbol", "owner__username")
    list_select_related = ("owner",)
