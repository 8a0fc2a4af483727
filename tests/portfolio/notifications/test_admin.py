"""The admin shows channels (secrets hidden) and each delivery's state."""

from __future__ import annotations

import pytest
from django.urls import reverse

from portfolio.notifications import outbox
from portfolio.notifications.models import Delivery, NotificationChannel

pytestmark = pytest.mark.django_db

TOKEN = "AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw"


def test_admin_pages_show_state_and_hide_secrets(admin_client, admin_user, make_alert):
    channel = NotificationChannel.objects.create(
        owner=admin_user, kind="apprise", apprise_url=f"tgram://123:{TOKEN}/456/"
    )
    alert = make_alert(owner=admin_user)
    (delivery,) = outbox.deliveries_create_for_alert(alert=alert)
    Delivery.objects.filter(pk=delivery.pk).update(
        state="failed", attempts=1, last_error="The receiver answered HTTP 410."
    )
    for name, pk in (
        ("notificationchannel", channel.pk),
        ("delivery", delivery.pk),
        ("alert", alert.pk),
    ):
        listing = admin_client.get(reverse(f"admin:portfolio_{name}_changelist"))
        page = admin_client.get(reverse(f"admin:portfolio_{name}_change", args=[pk]))
        assert listing.status_code == 200 and page.status_code == 200
        for response in (listing, page):
            assert TOKEN not in response.content.decode()
    alert_page = admin_client.get(
        reverse("admin:portfolio_alert_change", args=[alert.pk])
    )
    assert "The receiver answered HTTP 410." in alert_page.content.decode()
