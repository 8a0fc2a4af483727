"""The notification settings page: login required, its ES module, the API it uses."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.django_db


def test_settings_page_requires_login(client):
    response = client.get("/settings/notifications/")
    assert response.status_code == 302 and "/login/" in response["Location"]


def test_settings_page_renders_the_form_and_module(client, user):
    client.force_login(user)
    body = client.get("/settings/notifications/").content.decode()
    assert 'data-api-channels="/api/notification-channels/"' in body
    assert '<script type="module" src="/static/js/notification-channels.js">' in body
    for name in ("url", "secret", "address", "apprise_url", "include_simulated"):
        assert f'name="{name}"' in body
    # Secrets are typed into password fields, never echoed into the page.
    assert 'name="secret" type="password"' in body
