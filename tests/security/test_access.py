"""Every API endpoint, every method: anonymous refused, nobody touches another's data.

The endpoint list is the OpenAPI schema itself, checked against the URL resolver,
so a new endpoint is covered (or this test fails) without editing it.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from django.urls import URLPattern, URLResolver, get_resolver
from drf_spectacular.generators import SchemaGenerator
from rest_framework.test import APIClient

from portfolio import services
from portfolio.models import Alert, AlertKind, AlertRule, Holding, WatchedSymbol
from portfolio.notifications.models import NotificationChannel

from .conftest import fresh_ip

pytestmark = pytest.mark.django_db

METHODS = ("get", "post", "put", "patch", "delete")
# Public on purpose: the token endpoint's POST (it takes a password) and the
# schema and its docs (no data).
PUBLIC = {("/api/auth/token/", "post")}
# The catch-all answers a JSON 404 for every path that names nothing.
NOT_IN_SCHEMA = {"/api/schema/", "/api/docs/", "/api/.*"}
STAFF_ONLY = {"/api/streams/status/"}
OWNED_KINDS = (
    "holdings",
    "alert-rules",
    "alerts",
    "notification-channels",
    "watchlist",
)

BODIES = {
    "holdings": {"symbol": "ETH", "amount": "2"},
    "alert-rules": {"kind": "price_above", "symbol": "BTC", "threshold": "5"},
    "alerts": {"ids": [1]},
    "notification-channels": {"kind": "email", "address": "bob@example.test"},
    "watchlist": {"symbol": "ADA"},
    "auth": {},
}


def operations() -> list[tuple[str, str]]:
    schema = SchemaGenerator().get_schema(request=None, public=True)
    return [
        (path, m) for path, ops in schema["paths"].items() for m in METHODS if m in ops
    ]


def _api_routes(resolver: URLResolver, prefix: str = "") -> set[str]:
    routes = set()
    for entry in resolver.url_patterns:
        pattern = prefix + str(entry.pattern)
        if isinstance(entry, URLResolver):
            routes |= _api_routes(entry, pattern)
        elif isinstance(entry, URLPattern) and pattern.startswith("api/"):
            route = re.sub(r"\(\?P<(\w+)>[^)]*\)", r"{\1}", pattern)
            route = re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", route)
            route = route.replace("^", "").replace("$", "").replace("\\.", ".")
            if "{format}" not in route and "format_suffix" not in route:
                routes.add("/" + route.replace("{pk}", "{id}"))
    return routes


def test_schema_lists_every_api_route():
    in_schema = {path for path, _ in operations()}
    assert _api_routes(get_resolver()) - NOT_IN_SCHEMA <= in_schema


@pytest.fixture
def owned(user):
    """Alice's holding, rule and alert: the things Bob must never see or change."""
    holding = services.holding_create(owner=user, symbol="BTC", amount=Decimal("1.5"))
    rule = services.alert_rule_create(
        owner=user, kind=AlertKind.PRICE_ABOVE, symbol="BTC", threshold=Decimal("10")
    )
    alert = Alert.objects.create(
        rule=rule,
        owner=user,
        kind=rule.kind,
        symbol="BTC",
        threshold=rule.threshold,
        message="BTC above 10",
        observed_value=Decimal("11"),
        sequence=1,
        triggered_at=datetime.now(UTC),
    )
    channel = NotificationChannel.objects.create(
        owner=user, kind="email", address="alice@example.test"
    )
    watched = services.watch_add(owner=user, symbol="ETH")
    return {
        "holdings": holding,
        "alert-rules": rule,
        "alerts": alert,
        "notification-channels": channel,
        "watchlist": watched,
    }


def _snapshot(user) -> tuple:
    return (
        list(Holding.objects.filter(owner=user).values()),
        list(AlertRule.objects.filter(owner=user).values()),
        list(Alert.objects.filter(owner=user).values()),
        list(NotificationChannel.objects.filter(owner=user).values()),
        list(WatchedSymbol.objects.filter(owner=user).values()),
    )


def _url(path: str, owned: dict) -> tuple[str, str]:
    kind = path.split("/")[2]
    obj = owned.get(kind)
    url = path.replace("{id}", str(obj.pk) if obj else "1")
    return kind, url.replace("{symbol}", "BTC")


def _call(client: APIClient, method: str, url: str, kind: str):
    body = BODIES.get(kind, {})
    if kind == "alerts" and "ids" in body:
        body = {"ids": [int(url.split("/")[3])] if url.count("/") > 4 else [1]}
    return getattr(client, method)(url, body, format="json")


@pytest.mark.parametrize("path, method", operations())
def test_anonymous_is_refused(path, method, owned, user):
    before = _snapshot(user)
    kind, url = _url(path, owned)
    resp = _call(APIClient(REMOTE_ADDR=fresh_ip()), method, url, kind)
    if (path, method) in PUBLIC:
        assert resp.status_code == 400  # no credentials: a clear error, no token
    else:
        assert resp.status_code in (401, 403), resp.content
    assert _snapshot(user) == before


@pytest.mark.parametrize("path, method", operations())
def test_other_user_cannot_read_or_change(path, method, owned, user, other_user):
    before = _snapshot(user)
    kind, url = _url(path, owned)
    client = APIClient(REMOTE_ADDR=fresh_ip())
    client.force_authenticate(other_user)
    if kind == "alerts" and path == "/api/alerts/acknowledge/":
        resp = client.post(url, {"ids": [owned["alerts"].pk]}, format="json")
        assert resp.status_code == 200 and resp.json() == {"acknowledged": 0}
    else:
        resp = _call(client, method, url, kind)
        if path in STAFF_ONLY:
            assert resp.status_code == 403
        elif "{id}" in path:
            assert resp.status_code == 404, (url, method, resp.content)
        elif method == "get":
            assert resp.status_code == 200
            text = resp.content.decode()
            for obj in owned.values():
                assert f'"id":{obj.pk},' not in text.replace(" ", "") or (
                    kind not in OWNED_KINDS
                ), (url, text)
            if kind in OWNED_KINDS:
                assert resp.json()["count"] == 0, text
            if kind == "portfolio":
                # The owner's 1.5 BTC must not show (checked on the data, not the
                # text: a timestamp like 22:22:51.565 contains "1.5" too).
                body = resp.json()
                for key in ("holdings", "points", "unpriced"):
                    assert not body.get(key), (url, body)
                totals = body.get("totals") or {}
                assert totals.get("holding_count", 0) == 0, (url, body)
    assert _snapshot(user) == before, (path, method)


def test_admin_requires_staff(client, user):
    client.force_login(user)
    assert client.get("/admin/").status_code == 302
    assert client.get("/admin/portfolio/holding/").status_code == 302
