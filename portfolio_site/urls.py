"""URL configuration: admin, the portfolio app's pages and its REST API."""

from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/", include("portfolio.api.urls")),
    path("", include("portfolio.urls")),
]
