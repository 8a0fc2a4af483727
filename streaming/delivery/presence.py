"""Cross-process presence in Redis: who is connected, and in which rooms.

Sorted sets scored by expiry time, refreshed by every live server process, so
counts are right across processes and a crashed process's clients expire
instead of lingering. Used only with ``REDIS_URL``; one process counts in
memory (:mod:`streaming.delivery.hub`).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Iterable
from typing import Any

from django.conf import settings

logger = logging.getLogger(__name__)

__all__ = [
    "PRESENCE_TTL",
    "REFRESH_EVERY",
    "ROOMS_REFRESH_EVERY",
    "Presence",
    "PresenceReader",
    "RedisPresence",
    "RoomDirectory",
]

PRESENCE_TTL = 60.0  # seconds a client stays counted without a refresh
REFRESH_EVERY = 15.0
# Rooms with members: each hub re-marks its rooms this often (seconds), a mark
# lasts ROOMS_TTL, and a publisher reuses the directory for DIRECTORY_FOR, so a
# room's first member waits at most that long for its first broadcast.
ROOMS_REFRESH_EVERY = 2.0
ROOMS_TTL = 10.0
DIRECTORY_FOR = 0.25
WRITE_TIMEOUT = 3.0  # seconds a presence write may take before it is given up


class _Keys:
    def __init__(self, prefix: str) -> None:
        self._prefix = f"{prefix}:presence"

    def _clients_key(self) -> str:
        return f"{self._prefix}:clients"

    def _room_key(self, room: str) -> str:
        return f"{self._prefix}:room:{room}"

    def _rooms_key(self) -> str:
        return f"{self._prefix}:rooms"

    def _info_key(self, client_id: str) -> str:
        return f"{self._prefix}:client:{client_id}"


class RedisPresence(_Keys):
    """Writes of the presence sets, from the hub's event loop (asyncio client)."""

    def __init__(self, url: str, prefix: str) -> None:
        import redis.asyncio as aioredis

        super().__init__(prefix)
        self._aio = aioredis.from_url(url)

    async def add(self, client_id: str, info: dict[str, str], rooms: set[str]) -> None:
        await self.refresh([(client_id, info, rooms)])

    async def refresh(
        self, entries: list[tuple[str, dict[str, str], set[str]]]
    ) -> None:
        """Add (or re-add) every given client in ONE round trip.

        Per client, every ``REFRESH_EVERY``: a round trip each cost 500 sockets'
        worth of awaits on the server's loop at once (tens of milliseconds
        every 15 s); one pipeline with one ZADD per set is a few.
        """
        if not entries:
            return
        expiry = time.time() + PRESENCE_TTL
        members: dict[str, dict[str, float]] = {}
        pipe = self._aio.pipeline(transaction=False)
        pipe.zadd(self._clients_key(), {cid: expiry for cid, _, _ in entries})
        for client_id, info, rooms in entries:
            pipe.hset(self._info_key(client_id), mapping=info)
            pipe.expire(self._info_key(client_id), int(PRESENCE_TTL))
            for room in rooms:
                members.setdefault(room, {})[client_id] = expiry
        for room, mapping in members.items():
            pipe.zadd(self._room_key(room), mapping)
            pipe.expire(self._room_key(room), int(PRESENCE_TTL) * 2)
        await pipe.execute()

    async def join(self, client_id: str, room: str) -> None:
        pipe = self._aio.pipeline(transaction=False)
        pipe.zadd(self._room_key(room), {client_id: time.time() + PRESENCE_TTL})
        pipe.expire(self._room_key(room), int(PRESENCE_TTL) * 2)
        await pipe.execute()

    async def leave(self, client_id: str, room: str) -> None:
        await self._aio.zrem(self._room_key(room), client_id)

    async def remove(self, client_id: str, rooms: set[str]) -> None:
        pipe = self._aio.pipeline(transaction=False)
        pipe.zrem(self._clients_key(), client_id)
        pipe.delete(self._info_key(client_id))
        for room in rooms:
            pipe.zrem(self._room_key(room), client_id)
        await pipe.execute()

    async def mark_rooms(self, rooms: Iterable[str]) -> None:
        """This process has members in ``rooms`` (for :class:`RoomDirectory`)."""
        expiry = time.time() + ROOMS_TTL
        mapping = dict.fromkeys(rooms, expiry)
        if mapping:
            pipe = self._aio.pipeline(transaction=False)
            pipe.zadd(self._rooms_key(), mapping)
            pipe.expire(self._rooms_key(), int(ROOMS_TTL) * 2)
            await pipe.execute()

    async def close(self) -> None:
        await self._aio.aclose()


class PresenceReader(_Keys):
    """Blocking reads of the presence sets, for the spec's synchronous counters."""

    def __init__(self, url: str, prefix: str) -> None:
        import redis

        super().__init__(prefix)
        self._sync = redis.Redis.from_url(url, socket_timeout=2)

    def count(self, room: str | None) -> int:
        key = self._clients_key() if room is None else self._room_key(room)
        return int(self._sync.zcount(key, time.time(), "+inf"))

    def info(self, client_id: str) -> dict[str, str] | None:
        raw = self._sync.hgetall(self._info_key(client_id))
        if not raw:
            return None
        return {k.decode(): v.decode() for k, v in raw.items()}


class Presence:
    """The hub's presence: the Redis sets with ``REDIS_URL``, else nothing at all.

    Writes are skipped and counts are None without Redis, so the hub counts
    its own clients. The writer (an asyncio client) is bound to the event loop
    that opened its connections: :meth:`close` drops it for a new loop.
    """

    def __init__(self) -> None:
        self._writer: RedisPresence | None = None
        self._reader: PresenceReader | None = None

    def open(self) -> bool:
        """Prepare writes from the running loop; False when there is no Redis."""
        if settings.REDIS_URL and self._writer is None:
            self._writer = RedisPresence(
                settings.REDIS_URL, settings.CHANNEL_LAYER_PREFIX
            )
        return self._writer is not None

    def close(self) -> None:
        # Not awaited: entries expire on their own, and stopping must not wait
        # on Redis (it may be the very thing that is down).
        self._writer = None

    # Writes never fail their caller: with Redis down a connect or join that
    # raised killed the consumer mid-way (a ghost client); the hub's refresh
    # re-adds every live client, and stale entries expire.
    async def add(
        self, client_id: str, fields: dict[str, str], rooms: set[str]
    ) -> None:
        if self._writer is not None:
            await self._guard(self._writer.add(client_id, fields, rooms), "add")

    async def refresh(
        self, entries: list[tuple[str, dict[str, str], set[str]]]
    ) -> None:
        """Re-add every live client of this process (one pipeline)."""
        if self._writer is not None:
            await self._guard(self._writer.refresh(entries), "refresh")

    async def join(self, client_id: str, room: str) -> None:
        if self._writer is not None:
            await self._guard(self._writer.join(client_id, room), "join")

    async def leave(self, client_id: str, room: str) -> None:
        if self._writer is not None:
            await self._guard(self._writer.leave(client_id, room), "leave")

    @staticmethod
    async def _guard(write: Any, what: str) -> None:
        try:
            await asyncio.wait_for(write, WRITE_TIMEOUT)
        except Exception:  # noqa: BLE001 - see above
            logger.warning("presence %s failed (Redis down?)", what)

    async def mark_rooms(self, rooms: Iterable[str]) -> None:
        if self._writer is None:
            return
        try:
            await self._writer.mark_rooms(rooms)
        except Exception:  # noqa: BLE001 - re-marked on the next refresh
            logger.debug("room marks failed", exc_info=True)

    async def remove(self, client_id: str, rooms: set[str]) -> None:
        if self._writer is None:
            return
        try:
            await self._writer.remove(client_id, rooms)
        except Exception:  # noqa: BLE001 - expiry cleans up if Redis is down
            logger.warning("presence removal failed for %s", client_id, exc_info=True)

    def count(self, room: str | None) -> int | None:
        """Clients across processes (in ``room``, or all); None without Redis."""
        reader = self._sync_reader()
        return None if reader is None else reader.count(room)

    def info(self, client_id: str) -> dict[str, Any] | None:
        """A client on any process, as :meth:`ConnectionManager.get_client_info`."""
        reader = self._sync_reader()
        info = reader.info(client_id) if reader else None
        if info is None:
            return None
        user = info.get("user_id") or None
        return {**info, "user_id": int(user) if user else None, "local": False}

    def _sync_reader(self) -> PresenceReader | None:
        # Synchronous reads work from any thread, even before the hub starts.
        if not settings.REDIS_URL:
            return None
        if self._reader is None:
            self._reader = PresenceReader(
                settings.REDIS_URL, settings.CHANNEL_LAYER_PREFIX
            )
        return self._reader


class RoomDirectory(_Keys):
    """Which rooms have a member on ANY server process.

    Lets a publisher skip serialising and publishing frames for rooms nobody
    joined (per-symbol rooms especially). Every hub marks its rooms in one
    sorted set scored by expiry (:meth:`RedisPresence.mark_rooms`, refreshed
    every ``ROOMS_REFRESH_EVERY``), so one round trip answers for all rooms,
    at most every ``DIRECTORY_FOR`` seconds. If Redis cannot answer, every
    room counts as occupied: publishing too much beats silencing a room.
    """

    def __init__(self, url: str, prefix: str) -> None:
        super().__init__(prefix)
        self._url = url
        self._aio: Any = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._known: set[str] = set()
        self._until = 0.0

    async def occupied(self, rooms: Iterable[str]) -> set[str]:
        rooms = list(rooms)
        now = time.monotonic()
        if now >= self._until:
            try:
                self._known = await self._fetch()
            except Exception:  # noqa: BLE001 - Redis down: publish to all
                logger.debug("room directory unavailable", exc_info=True)
                return set(rooms)
            self._until = now + DIRECTORY_FOR
        return self._known.intersection(rooms)

    async def _fetch(self) -> set[str]:
        loop = asyncio.get_running_loop()
        if self._aio is None or self._loop is not loop:
            import redis.asyncio as aioredis

            # An asyncio client belongs to the loop that made it.
            self._aio, self._loop = aioredis.from_url(self._url), loop
        raw = await self._aio.zrangebyscore(self._rooms_key(), time.time(), "+inf")
        return {r.decode() for r in raw}
