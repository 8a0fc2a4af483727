"""The anonymous throttle keys on the client address (issue 19, item 11).

DRF with ``NUM_PROXIES`` unset keys on the whole ``X-Forwarded-For`` text, so a
client that sends a new one on every request is never throttled. With
``NUM_PROXIES`` 0 (the default) the address is ``REMOTE_ADDR``; behind N
trusted proxies it is the address the outermost of them saw.
"""

from __future__ import annotations

import pytest
from django.conf import settings
from rest_framework.test import APIClient

from .conftest import fresh_ip

pytestmark = pytest.mark.django_db


def test_rotating_x_forwarded_for_is_still_throttled():
    limit = int(settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]["anon"].split("/")[0])
    client = APIClient(REMOTE_ADDR=fresh_ip())
    codes = [
        client.post(
            "/api/auth/token/",
            {"username": "", "password": ""},
            format="json",
            HTTP_X_FORWARDED_FOR=fresh_ip(),
        ).status_code
        for _ in range(limit + 1)
    ]
    assert codes[-1] == 429, codes[-5:]
    assert settings.REST_FRAMEWORK["NUM_PROXIES"] == settings.NUM_PROXIES == 0
