"""Shared fixtures for the whole suite."""

from __future__ import annotations

import pytest
from django.conf import settings


def pytest_report_header(config) -> list[str]:
    db = settings.DATABASES["default"]["ENGINE"].rsplit(".", 1)[-1]
    layer = settings.CHANNEL_LAYERS["default"]["BACKEND"].rsplit(".", 1)[-1]
    return [f"run: database={db} channel_layer={layer}"]


def pytest_collection_modifyitems(config, items) -> None:
    if settings.REDIS_URL:
        return
    skip = pytest.mark.skip(reason="needs PostgreSQL + Redis (the real run)")
    for item in items:
        if "real_only" in item.keywords:
            item.add_marker(skip)


@pytest.fixture
def user(django_user_model):
    return django_user_model.objects.create_user(username="alice", password="pw-alice-123")


@pytest.fixture
def other_user(django_user_model):
    return django_user_model.objects.create_user(username="bob", password="pw-bob-12345")
