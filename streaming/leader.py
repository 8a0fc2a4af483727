"""A Redis lock with expiry so only one feed worker publishes at a time.

redis-py's :class:`redis.asyncio.lock.Lock` does the locking (a token-checked
SET NX PX, and Lua scripts that only extend or release a lock we still own).
The holder re-arms the expiry every ``ttl / 3`` seconds with ``reacquire()``; a
standby polls and takes over when the holder dies and the key expires.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import uuid

from redis.exceptions import LockError

logger = logging.getLogger(__name__)

__all__ = ["LeaderLock"]


class LeaderLock:
    """Hold ``key`` in Redis while alive; ``lost`` is set if it slips away."""

    def __init__(self, url: str, key: str, ttl: float = 10.0) -> None:
        import redis.asyncio as aioredis

        # Bounded socket waits: a partitioned Redis (no RST) must fail a
        # renewal within the renewal period, not hang it past the expiry.
        self._redis = aioredis.from_url(
            url,
            socket_timeout=max(ttl / 4, 0.5),
            socket_connect_timeout=max(ttl / 4, 0.5),
        )
        self.key = key
        self.ttl = ttl
        self.token = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self.lost = asyncio.Event()
        self._lock = self._redis.lock(
            key, timeout=ttl, blocking=False, thread_local=False
        )
        self._renewer: asyncio.Task[None] | None = None

    async def try_acquire(self) -> bool:
        return bool(await self._lock.acquire(token=self.token))

    async def acquire(self, stop: asyncio.Event) -> bool:
        """Wait as standby until the lock is ours (True) or ``stop`` is set (False)."""
        announced = False
        while not stop.is_set():
            try:
                if await self.try_acquire():
                    self.lost.clear()
                    self._renewer = asyncio.create_task(self._renew_loop())
                    return True
                if not announced:
                    holder = await self._redis.get(self.key)
                    logger.warning(
                        "Another worker (%s) holds %s; waiting as standby.",
                        holder.decode() if holder else "?",
                        self.key,
                    )
                    announced = True
            except Exception:  # noqa: BLE001 - Redis down: keep waiting
                logger.warning("Cannot reach Redis for the worker lock; retrying")
            try:
                await asyncio.wait_for(stop.wait(), self.ttl / 3)
            except TimeoutError:
                pass
        return False

    async def _renew_loop(self) -> None:
        failures = 0
        while True:
            await asyncio.sleep(self.ttl / 3)
            try:
                await self._lock.reacquire()
                failures = 0
                continue
            except LockError:
                renewed = False  # not ours any more: expired, taken or vanished
            except Exception:  # noqa: BLE001 - Redis unreachable
                failures += 1
                logger.warning("Lock renewal failed (%d)", failures)
                # Keep publishing only while the key can still be ours: one
                # renewal period short of the expiry a standby could take it.
                if (failures + 1) * self.ttl / 3 < self.ttl:
                    continue
                renewed = False
            if not renewed and await self._retake():
                failures = 0
                continue
            logger.error("Lost the worker lock %s; stepping down to standby.", self.key)
            self.lost.set()
            return

    async def _retake(self) -> bool:
        """The key vanished (Redis restarted without persistence, or flushed):
        take it back if nobody else did meanwhile, instead of stepping down."""
        try:
            if await self.try_acquire():
                logger.warning(
                    "Worker lock %s had vanished (Redis restarted?); re-acquired.",
                    self.key,
                )
                return True
        except Exception:  # noqa: BLE001 - still down: step down as before
            logger.debug("lock re-acquire failed", exc_info=True)
        return False

    async def release(self) -> None:
        if self._renewer is not None:
            self._renewer.cancel()
            await asyncio.gather(self._renewer, return_exceptions=True)
            self._renewer = None
        try:
            await self._lock.release()
        except Exception:  # noqa: BLE001 - not ours any more, or Redis down
            logger.debug("lock release failed", exc_info=True)

    async def close(self) -> None:
        await self.release()
        await self._redis.aclose()
