"""A Content-Security-Policy on every page (issue 19, item 11; django-csp)."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("path", ["/login/", "/api/schema/"])
def test_pages_carry_a_strict_policy(client, path):
    resp = client.get(path)
    policy = resp["Content-Security-Policy"]
    for directive in (
        "default-src 'self'",
        "script-src 'self'",
        "connect-src 'self'",
        "frame-ancestors 'none'",
        "object-src 'none'",
    ):
        assert directive in policy, policy
    assert "unsafe-inline" not in policy


def test_dashboard_has_a_policy(client, user):
    client.force_login(user)
    resp = client.get("/")
    assert resp.status_code == 200
    assert "script-src 'self'" in resp["Content-Security-Policy"]
