"""Brute force is locked out on every login path (django-axes; login_lockout.py)."""

from __future__ import annotations

import base64
import time
import uuid
from datetime import timedelta

import pytest
from axes.utils import reset
from django.contrib.auth import get_user_model
from django.test import Client
from rest_framework.test import APIClient

from .conftest import fresh_ip

pytestmark = pytest.mark.django_db
TOKEN_URL = "/api/auth/token/"
PASSWORD = "right-horse-battery-42"
LOCKED_PAGE = "Too many failed logins"

# Made-up usernames unique to this run: in the Redis run the lockout counts
# live in a shared cache that outlives a single test.
RUN = uuid.uuid4().hex[:8]


@pytest.fixture
def victim(fast_hasher):
    name = f"victim-{uuid.uuid4().hex[:10]}"
    user = get_user_model().objects.create_user(
        username=name, password=PASSWORD, is_staff=True
    )
    yield user
    reset(username=name)


@pytest.fixture
def limit(settings) -> int:
    return settings.AXES_FAILURE_LIMIT


def token_login(username, password, ip, **extra):
    return APIClient(REMOTE_ADDR=ip, **extra).post(
        TOKEN_URL, {"username": username, "password": password}, format="json"
    )


def basic(username, password):
    raw = base64.b64encode(f"{username}:{password}".encode()).decode()
    return {"HTTP_AUTHORIZATION": f"Basic {raw}"}


def assert_locked_json(response):
    """A locked-out API client gets a clear JSON 429, never a token or a page."""
    assert response.status_code == 429
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert "token" not in body
    assert "Too many failed logins" in body["detail"]
    assert int(response["Retry-After"]) > 0


def test_settings_wire_axes(settings):
    assert settings.AUTHENTICATION_BACKENDS == [
        "axes.backends.AxesStandaloneBackend",
        "portfolio.login_lockout.ResettingModelBackend",
    ]
    assert settings.MIDDLEWARE[-1] == "axes.middleware.AxesMiddleware"
    assert settings.AXES_HANDLER == "portfolio.login_lockout.LoginLockoutHandler"
    assert settings.AXES_LOCKOUT_PARAMETERS == ["username", "ip_address"]
    assert settings.AXES_FAILURE_LIMIT == 5
    assert settings.LOGIN_MAX_FAILURES_PER_IP == 50
    assert settings.AXES_CLIENT_IP_CALLABLE == "portfolio.login_lockout.client_ip"
    assert settings.AXES_COOLOFF_TIME == timedelta(seconds=300)
    # Axes' own reset on success would clear the IP's count too.
    assert settings.AXES_RESET_ON_SUCCESS is False
    assert settings.AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT is False


def test_token_endpoint_locks_username_after_n_failures(victim, limit):
    ip = fresh_ip()
    for _ in range(limit - 1):
        assert token_login(victim.username, "wrong", ip).status_code == 400
    # The failure that reaches the limit is already answered as a lockout.
    assert_locked_json(token_login(victim.username, "wrong", ip))
    # The right password is refused while locked, from that client.
    assert_locked_json(token_login(victim.username, PASSWORD, ip))
    reset(ip=ip)


def test_one_client_cannot_lock_out_another(victim, limit):
    """Issue 19, item 8: anyone could lock a known account out for everyone."""
    attacker = fresh_ip()
    for _ in range(limit + 3):
        token_login(victim.username, "wrong", attacker)
    assert_locked_json(token_login(victim.username, PASSWORD, attacker))
    assert token_login(victim.username, PASSWORD, fresh_ip()).status_code in (200, 201)
    reset(ip=attacker)


def test_made_up_names_from_one_address_do_not_lock_out_its_other_users(victim, limit):
    ip = fresh_ip()  # e.g. a shared office address
    for n in range(limit):
        assert token_login(f"nobody-{RUN}-x{n}", "guess", ip).status_code == 400
    assert token_login(victim.username, PASSWORD, ip).status_code in (200, 201)
    reset(ip=ip)


def test_behind_trusted_proxies_clients_are_told_apart(victim, limit, settings):
    """All clients arrive from the TLS proxy's address; X-Forwarded-For's entry
    that the proxy appended tells them apart, and a forged prefix does not."""
    settings.NUM_PROXIES = 1
    proxy, attacker, other = fresh_ip(), fresh_ip(), fresh_ip()
    for _ in range(limit):
        forged = {"HTTP_X_FORWARDED_FOR": f"{fresh_ip()}, {attacker}"}
        token_login(victim.username, "wrong", proxy, **forged)
    locked = token_login(
        victim.username, PASSWORD, proxy, HTTP_X_FORWARDED_FOR=attacker
    )
    assert_locked_json(locked)
    ok = token_login(victim.username, PASSWORD, proxy, HTTP_X_FORWARDED_FOR=other)
    assert ok.status_code in (200, 201)
    reset(ip=attacker)


def test_success_before_the_limit_resets_the_username_count(victim, limit):
    # (The per-IP count is not reset by a success: an attacker's own account
    # must not wipe their address's record; see the test below.)
    for _ in range(2):
        ip = fresh_ip()
        for _ in range(limit - 1):
            assert token_login(victim.username, "wrong", ip).status_code == 400
        assert token_login(victim.username, PASSWORD, ip).status_code in (200, 201)


def test_success_does_not_reset_the_ip_count(victim, limit, settings):
    settings.LOGIN_MAX_FAILURES_PER_IP = limit
    ip = fresh_ip()
    for n in range(limit - 1):
        assert token_login(f"nobody-{RUN}-{n}", "guess", ip).status_code == 400
    assert token_login(victim.username, PASSWORD, ip).status_code in (200, 201)
    assert_locked_json(token_login(f"nobody-{RUN}-last", "guess", ip))
    reset(ip=ip)


def test_one_ip_spraying_many_usernames_is_locked(victim, limit, settings):
    settings.LOGIN_MAX_FAILURES_PER_IP = limit
    ip = fresh_ip()
    for n in range(limit - 1):
        assert token_login(f"nobody-{RUN}-{n}", "guess", ip).status_code == 400
    assert_locked_json(token_login(f"nobody-{RUN}-{limit}", "guess", ip))
    assert_locked_json(token_login(victim.username, PASSWORD, ip))
    # Another address with the right password still gets in.
    assert token_login(victim.username, PASSWORD, fresh_ip()).status_code in (200, 201)
    reset(ip=ip)


def test_per_ip_limit_is_its_own(victim, settings):
    settings.LOGIN_MAX_FAILURES_PER_IP = settings.AXES_FAILURE_LIMIT + 3
    ip = fresh_ip()
    for n in range(settings.LOGIN_MAX_FAILURES_PER_IP - 1):
        assert token_login(f"nobody-{RUN}-{n}", "guess", ip).status_code == 400
    assert_locked_json(token_login(f"nobody-{RUN}-last", "guess", ip))
    reset(ip=ip)


def test_x_forwarded_for_does_not_give_a_fresh_ip(limit, settings):
    settings.LOGIN_MAX_FAILURES_PER_IP = limit
    ip = fresh_ip()
    for n in range(limit - 1):
        forged = {"HTTP_X_FORWARDED_FOR": fresh_ip()}
        assert (
            token_login(f"nobody-{RUN}-{n}", "guess", ip, **forged).status_code == 400
        )
    forged = {"HTTP_X_FORWARDED_FOR": fresh_ip()}
    assert_locked_json(token_login(f"nobody-{RUN}-last", "guess", ip, **forged))
    reset(ip=ip)


def test_a_username_cannot_lock_out_an_address(victim, limit):
    # Axes' stock cache handler keys the username and the IP by the bare value:
    # failing as the *username* "10.x.y.z" would lock out that address.
    target = fresh_ip()
    for _ in range(limit):
        token_login(target, "guess", fresh_ip())
    assert token_login(victim.username, PASSWORD, target).status_code in (200, 201)
    reset(username=target)


def test_basic_auth_is_limited(victim, limit):
    ip = fresh_ip()
    for n in range(limit):
        resp = APIClient(REMOTE_ADDR=ip).post(
            TOKEN_URL, **basic(victim.username, "wrong")
        )
        if n < limit - 1:
            assert resp.status_code in (401, 403)
        else:
            assert_locked_json(resp)
    resp = APIClient(REMOTE_ADDR=ip).post(TOKEN_URL, **basic(victim.username, PASSWORD))
    assert_locked_json(resp)
    reset(ip=ip)


def test_admin_login_is_limited(victim, limit):
    client = Client(REMOTE_ADDR=fresh_ip())
    for n in range(limit):
        resp = client.post(
            "/admin/login/", {"username": victim.username, "password": "x"}
        )
        assert "_auth_user_id" not in client.session
        if n < limit - 1:
            assert resp.status_code == 200
        else:
            assert resp.status_code == 429 and LOCKED_PAGE in resp.content.decode()
    resp = client.post(
        "/admin/login/", {"username": victim.username, "password": PASSWORD}
    )
    assert resp.status_code == 429 and LOCKED_PAGE in resp.content.decode()
    assert "_auth_user_id" not in client.session
    assert client.get("/admin/").status_code == 302


def test_lockout_expires(victim, limit, settings):
    settings.AXES_COOLOFF_TIME = timedelta(seconds=1)
    ip = fresh_ip()
    for _ in range(limit):
        token_login(victim.username, "wrong", ip)
    assert_locked_json(token_login(victim.username, PASSWORD, ip))
    time.sleep(1.2)
    assert token_login(victim.username, PASSWORD, ip).status_code in (200, 201)


def test_refused_attempts_do_not_stretch_the_lockout(victim, limit, settings):
    settings.AXES_COOLOFF_TIME = timedelta(seconds=1)
    ip = fresh_ip()
    for _ in range(limit):
        token_login(victim.username, "wrong", ip)
    time.sleep(0.6)
    assert_locked_json(token_login(victim.username, "wrong", ip))
    time.sleep(0.6)
    assert token_login(victim.username, PASSWORD, ip).status_code in (200, 201)


def test_odd_usernames_do_not_break_the_counter(settings):
    for name in ("x" * 10_000, "\x00nul", "ünï 🚀", " "):
        resp = token_login(name, "pw", fresh_ip())
        assert resp.status_code == 400
    # A lone surrogate: valid JSON, not encodable as UTF-8; still a clean 400.
    resp = APIClient(REMOTE_ADDR=fresh_ip()).post(
        TOKEN_URL,
        '{"username": "\\ud800lone", "password": "pw"}',
        content_type="application/json",
    )
    assert resp.status_code == 400


def test_dashboard_login_page_locks_out_too(victim, limit):
    ip = fresh_ip()
    for n in range(limit):
        response = Client(REMOTE_ADDR=ip).post(
            "/login/", {"username": victim.username, "password": "wrong"}
        )
        if n < limit - 1:
            assert response.status_code == 200  # the form again, with an error
        else:
            assert response.status_code == 429
    client = Client(REMOTE_ADDR=ip)
    response = client.post(
        "/login/", {"username": victim.username, "password": PASSWORD}
    )
    # Refused with a clear message, not the form's "wrong password" error.
    assert response.status_code == 429
    page = response.content.decode()
    assert LOCKED_PAGE in page and "Try again in 5 minutes" in page
    assert client.get("/").status_code == 302
    reset(ip=ip)
