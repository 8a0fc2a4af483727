"""URL configuration: admin, the portfolio app's pages and its REST API."""

from django.contrib import admin
from django.urls import include, path

from portfolio.metrics_view import metrics_view

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/", include("portfolio.api.urls")),
    path("metrics", metrics_view, name="metrics"),
    path("", include("portfolio.urls")),
]
