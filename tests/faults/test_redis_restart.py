"""Redis restarted under a running server + worker with clients connected."""

from __future__ import annotations

import asyncio
import signal
import time

import pytest

from .conftest import finish, free_port, manage, next_price, open_client, wait_for_line

pytestmark = [pytest.mark.timeout(90), pytest.mark.django_db(transaction=True)]


async def test_clients_get_prices_again_after_redis_restart(private_redis):
    port = free_port()
    env = {
        "REDIS_URL": private_redis.url,
        "CHANNEL_LAYER_PREFIX": "faultredis",
        "PRICE_FEEDS": "mock",
        "FEED_STARTUP_WINDOW": "0",
        "WATCH_SYMBOLS": "BTC,ETH",
        "PRICE_PUBLISH_INTERVAL": "0.1",
    }
    proc = manage("serve", "--port", str(port), env=env)
    try:
        await asyncio.to_thread(wait_for_line, proc, "Feed worker started", 30)
        ws = await open_client(port)
        await next_price(ws, 10)

        private_redis.kill()
        await asyncio.sleep(1.0)
        private_redis.start()
        restarted = time.monotonic()

        # The same socket, no reconnect: the hub rejoined its groups, the worker
        # kept (or re-took) its lock and publishes again.
        async with asyncio.timeout(15):
            while True:
                frame = await next_price(ws, 15)
                if frame["timestamp"] and time.monotonic() > restarted:
                    break
        # Prices keep coming past the lock's next renewal (ttl/3 = 3.3 s): the
        # worker re-took the lock the restart wiped instead of exiting.
        until = time.monotonic() + 4.5
        while time.monotonic() < until:
            await next_price(ws, 3)
        assert proc.poll() is None, "serve died after the Redis restart"
        await ws.close()
    finally:
        out = finish(proc, signal.SIGINT)
    assert proc.returncode == 0, out
    assert "Lost the worker lock" not in out, out
    assert "re-acquired" in out, out
