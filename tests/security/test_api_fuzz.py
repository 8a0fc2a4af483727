"""REST bad input: schemathesis over every operation, oversized bodies, huge numbers.

Every response must be a non-5xx that matches the schema; bad input changes nothing.
"""

from __future__ import annotations

import json

import pytest
import schemathesis
from django.core.wsgi import get_wsgi_application
from hypothesis import HealthCheck, settings
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
)

from portfolio.models import AlertRule, Holding

pytestmark = [pytest.mark.django_db, pytest.mark.timeout(120)]

schema = schemathesis.openapi.from_wsgi(
    "/api/schema/",
    get_wsgi_application(),
    headers={"Accept": "application/vnd.oai.openapi+json"},
)


def not_a_server_error(ctx, response, case):
    assert response.status_code < 500, f"{response.status_code}: {response.text[:300]}"


@pytest.fixture
def token(user):
    # Like django.test.Client: the raw WSGI app must not close the test's
    # database connection at the end of each request.
    from django.core import signals
    from django.db import close_old_connections

    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield Token.objects.create(user=user).key
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


@schema.parametrize()
@settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.filter_too_much,
    ],
)
def test_every_operation_conforms(case, token):
    headers = {"Authorization": f"Token {token}", "REMOTE_ADDR": "10.250.0.1"}
    response = case.call(headers=headers)
    not_a_server_error(None, response, case)
    if response.status_code < 400:
        case.validate_response(
            response,
            checks=[response_schema_conformance, content_type_conformance],
        )


@pytest.fixture
def api(user):
    client = APIClient(REMOTE_ADDR="10.250.0.2")
    client.force_authenticate(user)
    return client


def test_oversized_body_is_a_clean_400(api, settings):
    body = json.dumps(
        {
            "symbol": "BTC",
            "amount": "1",
            "pad": "x" * (settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 10),
        }
    )
    resp = api.post("/api/holdings/", body, content_type="application/json")
    assert resp.status_code in (400, 413), resp.status_code
    # (Django's own 400 page: RequestDataTooBig is raised before DRF's handler.)
    assert b"Traceback" not in resp.content
    assert not Holding.objects.exists()


@pytest.mark.parametrize(
    "url, body",
    [
        ("/api/holdings/", {"symbol": "BTC", "amount": "9" * 1000}),
        ("/api/holdings/", {"symbol": "BTC", "amount": "0." + "0" * 999 + "1"}),
        ("/api/holdings/", {"symbol": "BTC", "amount": "1e999999"}),
        ("/api/holdings/", {"symbol": "BTC", "amount": "NaN"}),
        ("/api/holdings/", {"symbol": "BTC", "amount": "Infinity"}),
        (
            "/api/alert-rules/",
            {"kind": "price_above", "symbol": "BTC", "threshold": "9" * 1000},
        ),
    ],
)
def test_thousand_digit_and_special_numbers_are_refused(api, url, body):
    resp = api.post(url, body, format="json")
    assert resp.status_code == 400, resp.content
    assert not Holding.objects.exists() and not AlertRule.objects.exists()


def test_raw_json_number_with_1000_digits(api):
    body = '{"symbol": "BTC", "amount": ' + "9" * 1000 + "}"
    resp = api.post("/api/holdings/", body, content_type="application/json")
    assert resp.status_code == 400, resp.content
    assert not Holding.objects.exists()
