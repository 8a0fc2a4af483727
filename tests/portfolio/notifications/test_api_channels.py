"""/api/notification-channels/: owner-scoped CRUD, safe targets, hidden secrets."""

from __future__ import annotations

import pytest

from portfolio.notifications import outbox
from portfolio.notifications.models import NotificationChannel

from .conftest import SECRET

pytestmark = pytest.mark.django_db(transaction=True)

URL = "/api/notification-channels/"
APPRISE = "tgram://123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw/987654321/"


def create(api, **body):
    return api.post(URL, body, format="json")


def test_create_list_update_delete_webhook(api, allow_private, receiver):
    hook = receiver()
    resp = create(api, kind="webhook", name="ops", url=hook.url, secret=SECRET)
    assert resp.status_code == 201, resp.content
    data = resp.json()
    assert data["url"] == hook.url and data["secret_set"] is True
    assert data["secret_hint"] == "…" + SECRET[-4:]
    assert SECRET not in resp.content.decode()
    listed = api.get(URL).json()
    assert listed["count"] == 1 and SECRET not in str(listed)
    pk = data["id"]
    # A PATCH without the secret keeps it.
    resp = api.patch(f"{URL}{pk}/", {"name": "ops2"}, format="json")
    assert resp.status_code == 200 and resp.json()["name"] == "ops2"
    assert NotificationChannel.objects.get(pk=pk).secret == SECRET
    assert api.delete(f"{URL}{pk}/").status_code == 204
    assert NotificationChannel.objects.count() == 0


def test_apprise_url_is_masked(api):
    resp = create(api, kind="apprise", apprise_url=APPRISE)
    assert resp.status_code == 201, resp.content
    text = resp.content.decode()
    assert "AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw" not in text
    assert resp.json()["target"].startswith("tgram://")
    assert "apprise_url" not in resp.json()


@pytest.mark.parametrize(
    "body, field, words",
    [
        (
            {"kind": "webhook", "url": "ftp://8.8.8.8/x", "secret": SECRET},
            "url",
            "http",
        ),
        (
            {"kind": "webhook", "url": "file:///etc/passwd", "secret": SECRET},
            "url",
            "http",
        ),
        (
            {"kind": "webhook", "url": "javascript:alert(1)", "secret": SECRET},
            "url",
            "http",
        ),
        ({"kind": "webhook", "secret": SECRET}, "url", "needs a webhook URL"),
        (
            {"kind": "webhook", "url": "https://8.8.8.8/"},
            "secret",
            "signing secret",
        ),
        (
            {"kind": "webhook", "url": "https://8.8.8.8/", "secret": "short"},
            "secret",
            "at least 16",
        ),
        (
            {"kind": "webhook", "url": "http://127.0.0.1:8000/", "secret": SECRET},
            "url",
            "private, loopback or link-local",
        ),
        (
            {"kind": "webhook", "url": "http://169.254.169.254/", "secret": SECRET},
            "url",
            "private",
        ),
        (
            {"kind": "webhook", "url": "http://[::1]/", "secret": SECRET},
            "url",
            "private",
        ),
        (
            {"kind": "webhook", "url": "http://10.1.2.3/", "secret": SECRET},
            "url",
            "private",
        ),
        ({"kind": "email"}, "address", "needs an e-mail address"),
        ({"kind": "email", "address": "not-an-address"}, "address", "valid email"),
        (
            {"kind": "email", "address": "a@b.test", "url": "https://x.test/"},
            "url",
            "leave it empty",
        ),
        ({"kind": "apprise", "apprise_url": "nonsense://x"}, "apprise_url", "Apprise"),
        (
            {"kind": "apprise", "apprise_url": "json://127.0.0.1:9/"},
            "apprise_url",
            "private",
        ),
        ({"kind": "pager"}, "kind", "valid choice"),
    ],
)
def test_bad_input_is_a_400_with_field_messages(api, body, field, words):
    resp = create(api, **body)
    assert resp.status_code == 400, resp.content
    messages = " ".join(resp.json()[field])
    assert words.lower() in messages.lower(), messages
    assert NotificationChannel.objects.count() == 0


def test_private_targets_allowed_by_setting(api, allow_private):
    resp = create(api, kind="webhook", url="http://127.0.0.1:9/", secret=SECRET)
    assert resp.status_code == 201, resp.content


def test_channel_quota(api, settings):
    settings.NOTIFY_MAX_CHANNELS_PER_USER = 2
    for n in range(2):
        assert create(api, kind="email", address=f"a{n}@b.test").status_code == 201
    resp = create(api, kind="email", address="a3@b.test")
    assert resp.status_code == 400
    assert "most allowed" in str(resp.json())
    assert NotificationChannel.objects.count() == 2


def test_other_users_channel_is_a_404(api, other_api):
    pk = create(api, kind="email", address="a@b.test").json()["id"]
    assert other_api.get(f"{URL}{pk}/").status_code == 404
    assert other_api.post(f"{URL}{pk}/test/").status_code == 404
    assert other_api.get(URL).json()["count"] == 0


def test_test_action_sends_a_signed_test_message(api, allow_private, receiver):
    hook = receiver()
    pk = create(api, kind="webhook", url=hook.url, secret=SECRET).json()["id"]
    resp = api.post(f"{URL}{pk}/test/")
    assert resp.status_code == 200 and resp.json()["ok"] is True
    (request,) = hook.requests
    assert request.headers["X-Portfolio-Delivery"].startswith("test-")
    assert b'"type":"test"' in request.body


def test_test_action_reports_the_receivers_refusal(api, allow_private, receiver):
    hook = receiver(default=410)
    pk = create(api, kind="webhook", url=hook.url, secret=SECRET).json()["id"]
    body = api.post(f"{URL}{pk}/test/").json()
    assert body == {
        "ok": False,
        "permanent": True,
        "status": 410,
        "error": "The receiver answered HTTP 410.",
    }


def test_alert_api_shows_each_delivery_state(api, make_alert):
    pk = create(api, kind="email", name="inbox", address="a@b.test").json()["id"]
    alert = make_alert()
    outbox.deliveries_create_for_alert(alert=alert)
    (shown,) = api.get("/api/alerts/").json()["results"]
    (delivery,) = shown["deliveries"]
    assert delivery["channel"] == pk and delivery["channel_name"] == "inbox"
    assert delivery["state"] == "pending" and delivery["attempts"] == 0
    assert delivery["last_error"] == ""
