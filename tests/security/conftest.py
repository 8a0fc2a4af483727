"""Isolation for the security tests: throttles and login counters start from zero."""

from __future__ import annotations

import itertools
import os
import random

import pytest
from django.core.cache.backends.locmem import LocMemCache
from rest_framework.test import APIClient
from rest_framework.throttling import SimpleRateThrottle

_caches = itertools.count()
_ips = itertools.count(random.Random(os.getpid()).randrange(1, 60000))


def fresh_ip() -> str:
    """A client address no other test (or earlier run sharing Redis) used."""
    n = next(_ips)
    return f"10.{(os.getpid() >> 8) % 250}.{n // 250 % 250}.{n % 250 + 1}"


@pytest.fixture(autouse=True)
def isolated_throttles(monkeypatch):
    # A new name per test: LocMemCache instances of one name share their data,
    # so a fixed name let throttle counts pile up across the fuzz cases.
    name = f"security-test-{next(_caches)}"
    monkeypatch.setattr(SimpleRateThrottle, "cache", LocMemCache(name, {}))


@pytest.fixture(autouse=True)
def no_outbound_notifications(monkeypatch):
    """Fuzzed channel URLs and /test/ must never resolve or reach a real host:
    every name "resolves" to a documentation address the SSRF guard refuses."""
    import socket

    from portfolio.notifications import safety

    def resolve(host, port):
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("192.0.2.1", port))]

    monkeypatch.setattr(safety, "_resolve", resolve)


@pytest.fixture
def ip():
    return fresh_ip()


@pytest.fixture
def anon_client(ip):
    return APIClient(REMOTE_ADDR=ip)


@pytest.fixture(autouse=True)
def fast_hasher(settings):
    """Users are created per test: a cheap hasher keeps this group fast."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
