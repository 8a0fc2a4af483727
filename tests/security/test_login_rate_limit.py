"""Brute force is locked out on every login path (portfolio/auth_backends.py)."""

from __future__ import annotations

import base64
import time
import uuid

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from rest_framework.test import APIClient

from portfolio.auth_backends import reset_login_failures

from .conftest import fresh_ip

pytestmark = pytest.mark.django_db
TOKEN_URL = "/api/auth/token/"
PASSWORD = "right-horse-battery-42"


@pytest.fixture
def victim(fast_hasher):
    name = f"victim-{uuid.uuid4().hex[:10]}"
    user = get_user_model().objects.create_user(
        username=name, password=PASSWORD, is_staff=True
    )
    yield user
    reset_login_failures(username=name)


def token_login(username, password, ip):
    return APIClient(REMOTE_ADDR=ip).post(
        TOKEN_URL, {"username": username, "password": password}, format="json"
    )


def basic(username, password):
    raw = base64.b64encode(f"{username}:{password}".encode()).decode()
    return {"HTTP_AUTHORIZATION": f"Basic {raw}"}


def test_settings_wire_the_backend(settings):
    assert settings.AUTHENTICATION_BACKENDS == [
        "portfolio.auth_backends.RateLimitedModelBackend"
    ]
    assert settings.LOGIN_MAX_FAILURES == 5 and settings.LOGIN_LOCKOUT_SECONDS == 300


def test_token_endpoint_locks_username_after_n_failures(victim, settings):
    for _ in range(settings.LOGIN_MAX_FAILURES):
        # From a different address each time: the per-username count still adds up.
        assert token_login(victim.username, "wrong", fresh_ip()).status_code == 400
    locked = token_login(victim.username, PASSWORD, fresh_ip())
    assert locked.status_code == 400  # the right password is refused while locked
    assert "token" not in locked.json()


def test_success_before_the_limit_resets_the_username_count(victim, settings):
    # (The per-IP count is not reset by a success: an attacker's own account
    # must not wipe their address's record.)
    for _ in range(2):
        ip = fresh_ip()
        for _ in range(settings.LOGIN_MAX_FAILURES - 1):
            assert token_login(victim.username, "wrong", ip).status_code == 400
        assert token_login(victim.username, PASSWORD, ip).status_code in (200, 201)


def test_one_ip_spraying_many_usernames_is_locked(victim, settings):
    ip = fresh_ip()
    for n in range(settings.LOGIN_MAX_FAILURES):
        assert token_login(f"nobody-{n}", "guess", ip).status_code == 400
    assert token_login(victim.username, PASSWORD, ip).status_code == 400
    # Another address with the right password still gets in.
    assert token_login(victim.username, PASSWORD, fresh_ip()).status_code in (200, 201)
    reset_login_failures(ip=ip)


def test_basic_auth_is_limited(victim, settings):
    for _ in range(settings.LOGIN_MAX_FAILURES):
        resp = APIClient(REMOTE_ADDR=fresh_ip()).post(
            TOKEN_URL, **basic(victim.username, "wrong")
        )
        assert resp.status_code in (401, 403)
    resp = APIClient(REMOTE_ADDR=fresh_ip()).post(
        TOKEN_URL, **basic(victim.username, PASSWORD)
    )
    assert resp.status_code in (401, 403)


def test_admin_login_is_limited(victim, settings):
    client = Client(REMOTE_ADDR=fresh_ip())
    for _ in range(settings.LOGIN_MAX_FAILURES):
        resp = client.post(
            "/admin/login/", {"username": victim.username, "password": "x"}
        )
        assert resp.status_code == 200 and "_auth_user_id" not in client.session
    client.post("/admin/login/", {"username": victim.username, "password": PASSWORD})
    assert "_auth_user_id" not in client.session
    assert client.get("/admin/").status_code == 302


def test_lockout_expires(victim, settings):
    settings.LOGIN_LOCKOUT_SECONDS = 1
    for _ in range(settings.LOGIN_MAX_FAILURES):
        token_login(victim.username, "wrong", fresh_ip())
    assert token_login(victim.username, PASSWORD, fresh_ip()).status_code == 400
    time.sleep(1.2)
    assert token_login(victim.username, PASSWORD, fresh_ip()).status_code in (200, 201)


def test_odd_usernames_do_not_break_the_counter(settings):
    for name in ("x" * 10_000, "\x00nul", "ünï 🚀", " "):
        resp = token_login(name, "pw", fresh_ip())
        assert resp.status_code == 400


def test_dashboard_login_page_locks_out_too(victim, settings):
    ip = fresh_ip()
    for _ in range(settings.LOGIN_MAX_FAILURES):
        response = Client(REMOTE_ADDR=ip).post(
            "/login/", {"username": victim.username, "password": "wrong"}
        )
        assert response.status_code == 200  # the form again, with an error
    client = Client(REMOTE_ADDR=fresh_ip())
    response = client.post(
        "/login/", {"username": victim.username, "password": PASSWORD}
    )
    assert response.status_code == 200  # refused: still the login form
    assert client.get("/").status_code == 302
