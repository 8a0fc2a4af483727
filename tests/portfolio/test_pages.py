"""The server-rendered pages: login required, sign up, log in and out."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse

pytestmark = pytest.mark.django_db


def test_dashboard_requires_login(client):
    response = client.get("/")
    assert response.status_code == 302
    assert response["Location"] == f"{reverse('login')}?next=/"


def test_dashboard_renders_for_a_user(client, user):
    client.force_login(user)
    response = client.get("/")
    assert response.status_code == 200
    body = response.content.decode()
    assert 'id="total-value"' in body
    assert 'data-ws-path="/ws/stream/"' in body
    assert "vendor/chartjs/chart.umd.min.js" in body
    assert '<script type="module" src="/static/js/dashboard.js">' in body
    assert "alice" in body


def test_login_page_is_styled_and_open(client):
    response = client.get(reverse("login"))
    assert response.status_code == 200
    assert b"css/app.css" in response.content
    assert b'name="username"' in response.content


def test_login_redirects_to_the_dashboard(client, user):
    response = client.post(
        reverse("login"), {"username": "alice", "password": "pw-alice-123"}
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("dashboard")


def test_logged_in_user_skips_the_login_page(client, user):
    client.force_login(user)
    response = client.get(reverse("login"))
    assert response.status_code == 302
    assert response["Location"] == reverse("dashboard")


def test_signup_creates_a_user_and_logs_in(client):
    response = client.post(
        reverse("signup"),
        {
            "username": "carol",
            "password1": "Correct-horse-42",
            "password2": "Correct-horse-42",
        },
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("dashboard")
    user = get_user_model().objects.get(username="carol")
    assert client.session["_auth_user_id"] == str(user.pk)
    assert client.get("/").status_code == 200


def test_signup_shows_errors_and_creates_nobody(client):
    response = client.post(
        reverse("signup"),
        {"username": "dave", "password1": "Correct-horse-42", "password2": "other"},
    )
    assert response.status_code == 200
    assert b"field-errors" in response.content
    assert not get_user_model().objects.filter(username="dave").exists()


def test_signup_redirects_a_logged_in_user(client, user):
    client.force_login(user)
    response = client.get(reverse("signup"))
    assert response.status_code == 302


def test_logout_is_a_post_and_returns_to_login(client, user):
    client.force_login(user)
    response = client.post(reverse("logout"))
    assert response.status_code == 302
    assert response["Location"] == reverse("login")
    assert client.get("/").status_code == 302


def test_old_home_name_redirects_to_the_dashboard(client):
    response = client.get(reverse("home"))
    assert response.status_code == 302
    assert response["Location"] == reverse("dashboard")


def test_admin_stays_at_admin(client):
    response = client.get("/admin/")
    assert response.status_code == 302
    assert "/admin/login/" in response["Location"]
