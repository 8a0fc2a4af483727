"""Token and session auth, CSRF, token revocation, throttling, schema and docs."""

from __future__ import annotations

import base64

import pytest
from django.contrib.staticfiles import finders
from django.core.management import call_command
from django.http import HttpRequest
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient
from rest_framework.throttling import AnonRateThrottle

pytestmark = pytest.mark.django_db

TOKEN_URL = "/api/auth/token/"


def session_login(client: APIClient) -> bool:
    # Client.login() calls authenticate() without a request, which axes'
    # backend refuses (it could not count the client's address).
    return client.login(
        request=HttpRequest(), username="alice", password="pw-alice-123"
    )


def basic(username, password):
    raw = base64.b64encode(f"{username}:{password}".encode()).decode()
    return {"HTTP_AUTHORIZATION": f"Basic {raw}"}


def test_token_from_username_and_password(anon, user):
    resp = anon.post(
        TOKEN_URL, {"username": "alice", "password": "pw-alice-123"}, format="json"
    )
    assert resp.status_code == 201
    assert resp.json() == {"token": Token.objects.get(user=user).key, "created": True}
    again = anon.post(
        TOKEN_URL, {"username": "alice", "password": "pw-alice-123"}, format="json"
    )
    assert again.status_code == 200 and again.json()["created"] is False


@pytest.mark.parametrize(
    "body", [{"username": "alice", "password": "wrong"}, {"username": "alice"}, {}]
)
def test_token_bad_credentials_400(anon, user, body):
    resp = anon.post(TOKEN_URL, body, format="json")
    assert resp.status_code == 400
    assert "non_field_errors" in resp.json()


def test_token_with_basic_auth(user):
    resp = APIClient().post(TOKEN_URL, **basic("alice", "pw-alice-123"))
    assert resp.status_code == 201


def test_token_auth_works_and_revoke_is_immediate(user):
    key = Token.objects.create(user=user).key
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    assert client.get("/api/holdings/").status_code == 200
    created = client.post(
        "/api/holdings/", {"symbol": "BTC", "amount": "1"}, format="json"
    )
    assert created.status_code == 201  # no CSRF for token auth
    assert client.delete(TOKEN_URL).status_code == 204
    assert client.get("/api/holdings/").status_code in (401, 403)
    assert not Token.objects.filter(user=user).exists()


def test_revoke_without_token_is_404(api):
    assert api.delete(TOKEN_URL).status_code == 404


def test_revoke_anonymous_refused(anon):
    assert anon.delete(TOKEN_URL).status_code in (401, 403)


def test_session_auth_enforces_csrf_on_writes(user):
    client = APIClient(enforce_csrf_checks=True)
    assert session_login(client)
    assert client.get("/api/holdings/").status_code == 200  # reads need no token
    resp = client.post(
        "/api/holdings/", {"symbol": "BTC", "amount": "1"}, format="json"
    )
    assert resp.status_code == 403
    assert "CSRF" in resp.json()["detail"]
    assert client.post(TOKEN_URL).status_code == 403


def test_session_auth_with_csrf_token_can_write(user):
    client = APIClient(enforce_csrf_checks=True)
    assert session_login(client)
    client.get("/admin/login/")  # any page that sets the CSRF cookie
    csrf = client.cookies["csrftoken"].value
    resp = client.post(
        "/api/holdings/",
        {"symbol": "BTC", "amount": "1"},
        format="json",
        HTTP_X_CSRFTOKEN=csrf,
    )
    assert resp.status_code == 201
    assert client.post(TOKEN_URL, HTTP_X_CSRFTOKEN=csrf).status_code == 201


def test_anonymous_is_throttled(anon, monkeypatch):
    monkeypatch.setattr(AnonRateThrottle, "rate", "2/min", raising=False)
    codes = [anon.post(TOKEN_URL, {}, format="json").status_code for _ in range(3)]
    assert codes[-1] == 429


def test_schema_generates_without_warnings():
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", "/dev/null")


def test_schema_endpoint_and_offline_docs(anon):
    schema = anon.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert schema.status_code == 200
    paths = schema.json()["paths"]
    for path in (
        "/api/holdings/",
        "/api/holdings/{id}/",
        "/api/alert-rules/",
        "/api/alerts/",
        "/api/alerts/{id}/acknowledge/",
        "/api/alerts/acknowledge/",
        "/api/portfolio/",
        "/api/portfolio/history/",
        "/api/prices/",
        "/api/streams/status/",
        "/api/auth/token/",
    ):
        assert path in paths
    amount = schema.json()["components"]["schemas"]["Holding"]["properties"]["amount"]
    assert amount["type"] == "string"
    docs = anon.get("/api/docs/")
    assert docs.status_code == 200
    html = docs.content.decode()
    assert "cdn.jsdelivr" not in html and "unpkg" not in html
    assert "drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js" in html
    assert finders.find("drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js")
