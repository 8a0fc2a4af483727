"""Strict REST input (issue 19, items 6 and 7): nested JSON, lone surrogates and
JSON numbers. Every bad body is a 400 JSON error; numbers are exact or refused."""

from __future__ import annotations

from decimal import Decimal

import pytest
from rest_framework.test import APIClient

from portfolio.models import AlertRule, Holding

pytestmark = pytest.mark.django_db


@pytest.fixture
def api(user):
    client = APIClient()
    client.force_authenticate(user)
    return client


NESTED = "[" * 5000 + "]" * 5000
JSON = "application/json"


@pytest.mark.parametrize(
    "path", ["/api/holdings/", "/api/alert-rules/", "/api/portfolio/"]
)
def test_nested_json_is_a_400_on_every_json_endpoint(api, path):
    resp = api.generic("POST", path, NESTED, content_type=JSON)
    assert resp.status_code in (400, 405), resp.content
    if resp.status_code == 400:
        assert "nested" in resp.json()["detail"]


def test_nested_json_on_the_anonymous_token_endpoint(client):
    resp = client.generic("POST", "/api/auth/token/", NESTED, content_type=JSON)
    assert resp.status_code == 400, resp.content
    assert resp["Content-Type"].startswith("application/json")


def test_lone_surrogate_is_a_400_not_a_broken_renderer(api):
    body = '{"kind": "\\ud800", "symbol": "BTC", "threshold": "1"}'
    resp = api.generic("POST", "/api/alert-rules/", body, content_type=JSON)
    assert resp.status_code == 400, resp.content
    assert "surrogate" in resp.json()["detail"]
    assert not AlertRule.objects.exists()


def test_json_number_amount_is_stored_exactly(api, user):
    body = '{"symbol": "BTC", "amount": 0.123456789012345678}'
    resp = api.generic("POST", "/api/holdings/", body, content_type=JSON)
    assert resp.status_code == 201, resp.content
    assert Holding.objects.get(owner=user).amount == Decimal("0.123456789012345678")
    assert resp.json()["amount"] == "0.123456789012345678"


def test_sixty_digit_number_is_refused_like_the_same_string(api, user):
    digits = "0." + "1" * 60
    as_number = api.generic(
        "POST", "/api/holdings/", f'{{"symbol": "BTC", "amount": {digits}}}', JSON
    )
    as_string = api.post(
        "/api/holdings/", {"symbol": "BTC", "amount": digits}, format="json"
    )
    assert as_number.status_code == as_string.status_code == 400, as_number.content
    assert not Holding.objects.exists()


def test_nan_number_is_a_400(api):
    body = '{"symbol": "BTC", "amount": NaN}'
    resp = api.generic("POST", "/api/holdings/", body, content_type=JSON)
    assert resp.status_code == 400, resp.content
