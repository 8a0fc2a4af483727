"""Fixtures of the portfolio tests: clean price cache and throttles, API clients."""

from __future__ import annotations

import pytest
from django.core.cache import cache
from django.core.cache.backends.locmem import LocMemCache
from rest_framework.test import APIClient
from rest_framework.throttling import SimpleRateThrottle

from streaming import price_cache


def _clear_prices() -> None:
    price_cache.clear_prices()
    cache.delete("streams-status")


@pytest.fixture(autouse=True)
def clean_cache(monkeypatch):
    """Prices and throttle history must not leak from one test into another."""
    _clear_prices()
    monkeypatch.setattr(SimpleRateThrottle, "cache", LocMemCache("throttle-test", {}))
    yield
    _clear_prices()


@pytest.fixture
def seed_prices():
    def seed(*prices: dict) -> None:
        price_cache.store_prices({p["symbol"]: p for p in prices})

    return seed


@pytest.fixture
def api(user):
    client = APIClient()
    client.force_authenticate(user)
    return client


@pytest.fixture
def other_api(other_user):
    client = APIClient()
    client.force_authenticate(other_user)
    return client


@pytest.fixture
def anon():
    return APIClient()
