"""A hung database (partition: no error, no reply) under a live ``serve``.

Issue 19, item 2: price publishing wrote Django's cache on the same single
sync thread as every ORM call of the worker, so a 20 s partition was an
18.4 s price gap for every client. Prices must keep flowing; the database
work (here the holdings refresh every 2 s) may wait, prices may not.
"""

from __future__ import annotations

import asyncio
import json
import signal
import time

import pytest
from django.db import connection

from .conftest import LoggedProcess, free_port, next_price, open_client
from .proxy import CuttableProxy

pytestmark = [
    pytest.mark.real_only,
    pytest.mark.timeout(120),
    pytest.mark.django_db(transaction=True),
]

HANG = 20.0  # seconds of partition, as in the issue


def _proxied_database_url(proxy: CuttableProxy) -> str:
    db = connection.settings_dict
    return f"postgres://{db['USER']}@127.0.0.1:{proxy.port}/{db['NAME']}"


async def test_prices_keep_flowing_while_the_database_hangs():
    db = connection.settings_dict
    proxy = CuttableProxy(db["HOST"] or "127.0.0.1", int(db["PORT"] or 5432)).start()
    port = free_port()
    env = {
        "DATABASE_URL": _proxied_database_url(proxy),
        "REDIS_URL": "",  # embedded: local-memory cache, in-memory layer
        "PRICE_FEEDS": "mock",
        "FEED_STARTUP_WINDOW": "0",
        "WATCH_SYMBOLS": "BTC",
        "PRICE_PUBLISH_INTERVAL": "0.1",
    }
    proc = LoggedProcess("serve", "--port", str(port), env=env)
    try:
        await asyncio.to_thread(proc.wait_for, "Feed worker started", 30)
        ws = await open_client(port)
        await next_price(ws, 10)

        proxy.hang()
        hung_at = last = time.monotonic()
        gaps = []
        while time.monotonic() - hung_at < HANG:
            await next_price(ws, HANG + 5)
            now = time.monotonic()
            gaps.append(now - last)
            last = now
        proxy.resume()
        await next_price(ws, 10)
        # The page's REST read (the price cache) still answers too.
        await ws.send(json.dumps({"action": "ping"}))
        await ws.close()
        assert proc.poll() is None
    finally:
        proxy.resume()
        out = proc.finish(signal.SIGINT, timeout=30)
        proxy.stop()
    print(f"largest price gap during a {HANG:.0f} s hang: {max(gaps):.2f} s")
    assert max(gaps) < 2.5, (gaps, out[-4000:])
