"""Two daphne server processes on Redis agree on client and room counts."""

from __future__ import annotations

import asyncio
import json
import os
import time

import pytest
from websockets.asyncio.client import connect

from tests.portfolio.test_commands import finish, free_port, manage, wait_for_line

pytestmark = [pytest.mark.real_only, pytest.mark.django_db(transaction=True)]


def staff_token(django_user_model) -> str:
    from rest_framework.authtoken.models import Token

    admin = django_user_model.objects.create_superuser(
        "ops", "ops@example.com", "pw-ops-123"
    )
    return Token.objects.create(user=admin).key


async def get_status(port: int, token: str) -> dict:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(
        (
            f"GET /api/streams/status/ HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
            f"Authorization: Token {token}\r\nConnection: close\r\n\r\n"
        ).encode()
    )
    raw = await asyncio.wait_for(reader.read(), 10)
    writer.close()
    return json.loads(raw.split(b"\r\n\r\n", 1)[1])["connections"]


def test_counts_agree_across_two_servers(django_user_model):
    token = staff_token(django_user_model)
    env = {"CHANNEL_LAYER_PREFIX": f"mp{os.getpid()}"}
    ports = [free_port(), free_port()]
    servers = [manage("serve", "--no-feeds", "--port", str(p), env=env) for p in ports]
    try:
        for server in servers:
            wait_for_line(server, "Serving on")
        asyncio.run(_scenario(ports, token, env["CHANNEL_LAYER_PREFIX"]))
    finally:
        for server in servers:
            assert "Traceback" not in finish(server)


async def _scenario(ports: list[int], token: str, prefix: str) -> None:
    sockets = []
    try:
        # 3 clients on the first server (2 in prices), 2 on the second (1 in prices).
        for port, rooms in [
            (ports[0], ["prices"]),
            (ports[0], ["prices", "system"]),
            (ports[0], ["system"]),
            (ports[1], ["prices"]),
            (ports[1], ["system"]),
        ]:
            ws = await connect(
                f"ws://127.0.0.1:{port}/ws/stream/", origin=f"http://127.0.0.1:{port}"
            )
            await ws.recv()
            await ws.send(json.dumps({"action": "subscribe", "rooms": rooms}))
            await ws.recv()
            sockets.append(ws)
        expected = {"clients": 5, "rooms": {"prices": 3, "system": 3}}
        for port, local in zip(ports, (3, 2), strict=True):
            counts = await get_status(port, token)
            assert {k: counts[k] for k in expected} == expected
            assert counts["this_process"] == local
        await _broadcast_reaches_both_servers(sockets, prefix)
        await sockets.pop().close()
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            counts = await get_status(ports[0], token)
            if counts["clients"] == 4:
                break
            await asyncio.sleep(0.1)
        assert counts["clients"] == 4 and counts["rooms"]["system"] == 2
    finally:
        for ws in sockets:
            await ws.close()


async def _broadcast_reaches_both_servers(sockets, prefix: str) -> None:
    """A price batch published once (as run_feeds does) reaches every process."""
    from channels_redis.pubsub import RedisPubSubChannelLayer
    from django.conf import settings

    from streaming.delivery.server import price_frames

    # The hubs' layer (settings' "hub": Redis pub/sub), as run_feeds uses it.
    assert settings.CHANNEL_LAYERS["hub"]["BACKEND"].endswith("RedisPubSubChannelLayer")
    layer = RedisPubSubChannelLayer(hosts=[settings.REDIS_URL], prefix=prefix)
    batch = [{"symbol": "BTC", "price": "1.5", "source": "binance"}]
    for room, text in price_frames(batch):
        await layer.group_send(
            f"room.{room}", {"type": "room.frame", "room": room, "text": text}
        )
    await layer.flush()
    for index in (0, 1, 3):  # the clients in "prices", on both servers
        async with asyncio.timeout(5):
            frame = json.loads(await sockets[index].recv())
            while frame["type"] == "system_status":  # the greeting on joining system
                frame = json.loads(await sockets[index].recv())
        assert frame["type"] == "price_update"
        assert frame["data"]["prices"] == batch
