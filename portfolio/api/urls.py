"""REST API routes, mounted at /api/ (plus the OpenAPI schema and its docs)."""

from csp.decorators import csp_exempt
from django.urls import path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView
from rest_framework.routers import DefaultRouter

from . import ledger_views, notification_views, views

router = DefaultRouter(trailing_slash=True)
router.include_root_view = False
router.register("holdings", views.HoldingViewSet, basename="holding")
router.register("watchlist", views.WatchListViewSet, basename="watch")
router.register("alert-rules", views.AlertRuleViewSet, basename="alert-rule")
router.register("alerts", views.AlertViewSet, basename="alert")
router.register(
    "notification-channels",
    notification_views.NotificationChannelViewSet,
    basename="notification-channel",
)
router.register("transactions", ledger_views.TransactionViewSet, basename="transaction")

urlpatterns = [
    path("portfolio/", views.PortfolioView.as_view(), name="portfolio"),
    path(
        "portfolio/history/",
        views.PortfolioHistoryView.as_view(),
        name="portfolio-history",
    ),
    path(
        "ledger/settings/",
        ledger_views.LedgerSettingsView.as_view(),
        name="ledger-settings",
    ),
    path("prices/", views.PriceListView.as_view(), name="prices"),
    path(
        "prices/<str:symbol>/history/",
        views.PriceHistoryView.as_view(),
        name="price-history",
    ),
    path("streams/status/", views.StreamsStatusView.as_view(), name="streams-status"),
    path("auth/token/", views.TokenView.as_view(), name="auth-token"),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    # Swagger UI bootstraps with an inline script: no CSP on this one page.
    path(
        "docs/",
        csp_exempt()(SpectacularSwaggerView.as_view(url_name="schema")),
        name="api-docs",
    ),
    *router.urls,
    # Last: every other path under /api/ answers a JSON 404.
    re_path(r"^.*$", views.NotFoundView.as_view(), name="api-not-found"),
]
