"""Admin: every model with the columns, filters and search an operator needs."""

from django.contrib import admin

from .models import Alert, AlertRule, Holding, PortfolioSnapshot
from .notifications.channels import target_hint
from .notifications.models import Delivery, NotificationChannel


@admin.register(Holding)
class HoldingAdmin(admin.ModelAdmin):
    list_display = ("symbol", "owner", "amount", "cost_basis", "updated_at")
    list_filter = ("symbol",)
    search_fields = ("symbol", "owner__username", "owner__email")
    list_select_related = ("owner",)
    readonly_fields = ("created_at", "updated_at")


@admin.register(AlertRule)
class AlertRuleAdmin(admin.ModelAdmin):
    list_display = (
        "id",
        "owner",
        "kind",
        "symbol",
        "threshold",
        "enabled",
        "one_shot",
        "cooldown_seconds",
        "last_triggered_at",
        "trigger_count",
    )
    list_filter = ("kind", "enabled", "one_shot")
    search_fields = ("symbol", "owner__username")
    list_select_related = ("owner",)
    readonly_fields = ("last_triggered_at", "trigger_count", "created_at", "updated_at")


@admin.register(Alert)
class AlertAdmin(admin.ModelAdmin):
    list_display = (
        "triggered_at",
        "owner",
        "kind",
        "symbol",
        "observed_value",
        "threshold",
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
    readonly_fields = (
        "rule",
        "owner",
        "kind",
        "symbol",
        "threshold",
        "message",
        "observed_value",
        "source",
        "simulated",
        "sequence",
        "triggered_at",
    )

    def has_delete_permission(self, request, obj=None) -> bool:
        # Alerts are records; nobody deletes them from the admin either.
        return False


@admin.register(PortfolioSnapshot)
class PortfolioSnapshotAdmin(admin.ModelAdmin):
    list_display = ("taken_at", "owner", "total_value", "simulated")
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
class DeliveryAdmin(admin.ModelAdmin):
    list_display = (
        "id",
        "alert",
        "kind",
        "channel",
        "state",
        "attempts",
        "last_status",
        "last_error",
        "next_attempt_at",
        "sent_at",
    )
    list_filter = ("state", "kind")
    search_fields = ("alert__message", "channel__name", "last_error")
    list_select_related = ("alert", "channel")
    readonly_fields = [f.name for f in Delivery._meta.fields]

    def has_add_permission(self, request) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
