"""The worker's leader lock (redis-py Lock) against the real Redis."""

from __future__ import annotations

import asyncio
import uuid

import pytest
from django.conf import settings

from streaming.leader import LeaderLock

pytestmark = [pytest.mark.real_only, pytest.mark.timeout(30)]


@pytest.fixture
def key() -> str:
    return f"test:leader:{uuid.uuid4().hex}"


async def test_one_leader_standby_takes_over_when_it_goes(key):
    first = LeaderLock(settings.REDIS_URL, key, ttl=0.6)
    second = LeaderLock(settings.REDIS_URL, key, ttl=0.6)
    stop = asyncio.Event()
    assert await first.acquire(stop)
    standby = asyncio.create_task(second.acquire(stop))
    await asyncio.sleep(1.0)  # several renewals: the standby stays out
    assert not standby.done() and not first.lost.is_set()
    await first.close()  # releases: the standby takes over within ttl/3
    assert await asyncio.wait_for(standby, 3)
    holder = await second._redis.get(key)
    assert holder.decode() == second.token
    await second.close()


async def test_vanished_key_is_taken_back_and_a_stolen_one_steps_down(key):
    lock = LeaderLock(settings.REDIS_URL, key, ttl=0.6)
    assert await lock.acquire(asyncio.Event())
    await lock._redis.delete(key)  # Redis restarted without persistence
    await asyncio.sleep(0.5)
    assert (await lock._redis.get(key)).decode() == lock.token
    assert not lock.lost.is_set()
    await lock._redis.set(key, "someone-else", px=5000)  # another worker holds it
    await asyncio.wait_for(lock.lost.wait(), 3)
    await lock.close()
    assert (await lock._redis.get(key)) == b"someone-else"  # not released by us
    await lock._redis.delete(key)
