"""ApiJsonErrorsMiddleware in both modes; a middleware stack ASGI runs on its loop."""

from __future__ import annotations

import pytest
from asgiref.sync import iscoroutinefunction, sync_to_async
from django.conf import settings
from django.db import connections
from django.http import HttpResponse
from django.test import AsyncClient, RequestFactory
from django.utils.module_loading import import_string
from rest_framework.authtoken.models import Token

from portfolio.api.middleware import ApiJsonErrorsMiddleware


def test_every_middleware_can_run_async():
    """One sync-only middleware costs every ASGI request two more thread hops."""
    sync_only = [
        path
        for path in settings.MIDDLEWARE
        if not getattr(import_string(path), "async_capable", False)
    ]
    assert sync_only == []


def _html_error(request):
    return HttpResponse("<h1>Server Error</h1>", status=500, content_type="text/html")


async def _ahtml_error(request):
    return _html_error(request)


def test_sync_mode_turns_an_api_error_into_json():
    middleware = ApiJsonErrorsMiddleware(_html_error)
    assert not iscoroutinefunction(middleware)
    resp = middleware(RequestFactory().get("/api/portfolio/"))
    assert resp.status_code == 500
    assert resp["Content-Type"] == "application/json"
    assert resp.content == b'{"detail":"Internal Server Error."}'


async def test_async_mode_turns_an_api_error_into_json():
    middleware = ApiJsonErrorsMiddleware(_ahtml_error)
    assert iscoroutinefunction(middleware)
    resp = await middleware(RequestFactory().get("/api/portfolio/"))
    assert resp.status_code == 500
    assert resp.content == b'{"detail":"Internal Server Error."}'
    page = await middleware(RequestFactory().get("/dashboard/"))
    assert page["Content-Type"] == "text/html"  # pages keep their HTML errors


async def test_async_mode_refuses_an_oversized_body_before_the_view():
    async def view(request):
        raise AssertionError("the body should have been refused first")

    middleware = ApiJsonErrorsMiddleware(view)
    limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    request = RequestFactory().post(
        "/api/holdings/", "x" * (limit + 1), content_type="application/json"
    )
    resp = await middleware(request)
    assert resp.status_code == 413
    assert b"too large" in resp.content


@pytest.mark.django_db(transaction=True)
async def test_the_asgi_stack_serves_the_portfolio(user):
    token = await Token.objects.acreate(user=user)
    auth = {"authorization": f"Token {token.key}"}
    resp = await AsyncClient().get("/api/portfolio/", headers=auth)
    assert resp.status_code == 200
    assert resp.json()["holdings"] == []
    anonymous = await AsyncClient().get("/api/portfolio/")
    assert anonymous.status_code == 401
    assert anonymous["WWW-Authenticate"] == "Token"
    # The view ran in asgiref's thread, whose connection (kept on PostgreSQL)
    # would stop the test database from being dropped.
    await sync_to_async(connections.close_all)()
