"""Shared fixtures for the whole suite."""

from __future__ import annotations

import asyncio

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


@pytest.fixture(autouse=True)
def offline_asset_registry():
    """The shipped listing snapshot, never the internet: tests stay on 127.0.0.1."""
    from streaming.feeds.listings import AssetRegistry, set_default_registry

    set_default_registry(AssetRegistry(fetch=False))
    yield
    set_default_registry(None)


@pytest.fixture(autouse=True)
def offline_candles(settings):
    """No candle fetches unless a test points them at a local fake server."""
    from portfolio.market.services import set_default_client

    settings.CANDLES_FETCH = False
    set_default_client(None)
    yield
    set_default_client(None)


@pytest.fixture
def user(django_user_model):
    return django_user_model.objects.create_user(
        username="alice", password="pw-alice-123"
    )


@pytest.fixture
def other_user(django_user_model):
    return django_user_model.objects.create_user(
        username="bob", password="pw-bob-12345"
    )


@pytest.fixture
async def connection_manager():
    """The process ConnectionManager, stopped after the test (counts from zero)."""
    from channels.layers import channel_layers

    from streaming.delivery import hub
    from streaming.delivery.hub import get_connection_manager

    hub._manager = None  # a fresh manager per test: no state across loops
    # A fresh channel layer per test: channels_redis ties its receive state
    # to the event loop, and every async test has its own loop.
    channel_layers.backends.clear()
    hub._manager = None
    manager = get_connection_manager()
    if settings.REDIS_URL:
        import redis.asyncio as aioredis

        client = aioredis.from_url(settings.REDIS_URL)
        keys = [
            k
            async for k in client.scan_iter(
                f"{settings.CHANNEL_LAYER_PREFIX}:presence:*"
            )
        ]
        if keys:
            await client.delete(*keys)
        await client.aclose()
    yield manager
    await manager.stop()
    for layer in list(channel_layers.backends.values()):
        if type(layer).__name__ == "RedisPubSubChannelLayer":
            close = layer.flush  # the hub layer: its connections on this loop
        elif hasattr(layer, "close_pools"):
            close = layer.close_pools
        else:
            continue
        try:
            await asyncio.wait_for(close(), 5)
        except (TimeoutError, OSError):
            pass  # a pool bound to a dead connection; dropped below
    channel_layers.backends.clear()
    hub._manager = None


@pytest.fixture
def ws_connect(django_user_model):
    """Open a WebsocketCommunicator on /ws/stream/, optionally logged in as a user."""
    from channels.testing import WebsocketCommunicator
    from django.test import Client

    from portfolio_site.asgi import application

    opened = []

    async def connect(user=None, origin=b"http://127.0.0.1:8000"):
        headers = [(b"origin", origin), (b"host", b"127.0.0.1:8000")]
        if user is not None:
            from asgiref.sync import sync_to_async

            def login_cookie() -> bytes:
                client = Client()
                client.force_login(user)
                return f"sessionid={client.cookies['sessionid'].value}".encode()

            headers.append((b"cookie", await sync_to_async(login_cookie)()))
        communicator = WebsocketCommunicator(
            application, "/ws/stream/", headers=headers
        )
        connected, _ = await communicator.connect(timeout=5)
        assert connected
        hello = await communicator.receive_json_from(timeout=5)
        assert hello["type"] == "status" and hello["data"]["event"] == "connected"
        communicator.hello = hello
        opened.append(communicator)
        return communicator

    yield connect
    # Communicators are disconnected by the tests (inside their event loop).
