"""The hub's periodic presence refresh: every live client re-added in one round trip.

Per client, a round trip each meant 500 awaits on a server's loop at once every
15 s (a latency spike for every broadcast in flight). One pipeline carries them
all, and readers see the same counts, rooms and client info as after ``add``.
"""

from __future__ import annotations

import uuid

import pytest
from django.conf import settings

from streaming.delivery.presence import PresenceReader, RedisPresence

pytestmark = pytest.mark.real_only


async def test_refresh_re_adds_every_client_in_one_round_trip(monkeypatch):
    prefix = f"test-refresh-{uuid.uuid4().hex[:8]}"
    writer = RedisPresence(settings.REDIS_URL, prefix)
    reader = PresenceReader(settings.REDIS_URL, prefix)
    executed = []
    real_pipeline = writer._aio.pipeline

    def counting_pipeline(*args, **kwargs):
        pipe = real_pipeline(*args, **kwargs)
        real_execute = pipe.execute

        async def execute(*a, **kw):
            executed.append(len(pipe.command_stack))
            return await real_execute(*a, **kw)

        pipe.execute = execute
        return pipe

    monkeypatch.setattr(writer._aio, "pipeline", counting_pipeline)
    entries = [
        (f"c{i}", {"user_id": str(i), "remote": f"127.0.0.1:{4000 + i}"}, rooms)
        for i, rooms in enumerate(
            [{"prices"}, {"prices", "price:BTC"}, set(), {"price:BTC"}] * 50
        )
    ]
    try:
        await writer.refresh(entries)
        assert len(executed) == 1  # 200 clients, one round trip
        assert reader.count(None) == 200
        assert reader.count("prices") == 100
        assert reader.count("price:BTC") == 100
        assert reader.info("c3") == {"user_id": "3", "remote": "127.0.0.1:4003"}
        await writer.refresh([])  # nothing to refresh: no round trip at all
        assert len(executed) == 1
    finally:
        keys = [k async for k in writer._aio.scan_iter(f"{prefix}:*")]
        if keys:
            await writer._aio.delete(*keys)
        await writer.close()
