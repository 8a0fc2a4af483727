"""Admin: every model with the columns, filters and search an operator needs."""

from django.contrib import admin

from .models import Alert, AlertRule, Holding, PortfolioSnapshot


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
