"""ConnectionManager: who is connected, which rooms they are in, and fan-out.

Delivery path (built for 1,000+ sockets per process): each server process has
ONE hub channel on the channel layer. The hub joins a room's group when the
first local client joins that room and leaves it with the last one, so a
broadcast crosses the channel layer once per process, not once per client.
The hub then writes the pre-serialised frame straight to each local socket's
ASGI ``send`` — no consumer ``dispatch`` (and its thread hop) per message.

Presence: in memory for one process; with ``REDIS_URL`` also in Redis sorted
sets scored by expiry, refreshed by every live process, so counts are right
across processes and a crashed process's clients expire instead of lingering.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
import uuid
from collections import deque
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol

from channels.layers import get_channel_layer
from django.conf import settings

from .messages import WebSocketMessage
from .rooms import ALL_GROUP, group_name

logger = logging.getLogger(__name__)

__all__ = ["ConnectionManager", "get_connection_manager"]

PRESENCE_TTL = 60.0  # seconds a client stays counted without a refresh
REFRESH_EVERY = 15.0
BACKLOG_CHECK_EVERY = 8  # frames between two looks at a socket's unsent bytes


def _transport_of(socket: Any) -> Any:
    """The Twisted transport behind a consumer's ``base_send`` under daphne.

    daphne passes ``send=functools.partial(server.handle_reply, protocol)``
    (channels' SessionMiddleware wraps it, keeping it as ``real_send``).
    Anything else (tests' communicators, other servers) gives None: no check.
    """
    send = getattr(socket, "base_send", None)
    for _ in range(4):  # channels' SessionMiddleware wraps it: follow real_send
        args = getattr(send, "args", None)
        if args:
            transport = getattr(args[0], "transport", None)
            return transport if hasattr(transport, "_tempDataLen") else None
        send = getattr(getattr(send, "__self__", None), "real_send", None)
        if send is None:
            return None
    return None


def unsent_bytes(transport: Any) -> int:
    """Bytes written to a Twisted FileDescriptor but not yet taken by the kernel."""
    try:
        return len(transport.dataBuffer) - transport.offset + transport._tempDataLen
    except AttributeError:
        return 0


class Socket(Protocol):
    """What the manager needs from a connection (a Channels consumer)."""

    channel_name: str

    async def base_send(self, message: dict[str, Any]) -> None: ...


@dataclass(slots=True)
class _Client:
    socket: Any
    user_id: int | None
    connected_at: datetime
    rooms: set[str] = field(default_factory=set)
    remote: str | None = None
    frames_sent: int = 0
    transport: Any = None  # the Twisted transport under daphne (backlog checks)
    dropped: bool = False
    send: Any = None  # the socket's frame sender (see _frame_sender)


def _frame_sender(socket: Any) -> Any:
    """The ASGI ``send`` frames are written to, past Channels' session wrapper.

    ``SessionMiddleware`` wraps ``send`` only to save the session and set its
    cookie on ``http.response.start``; a ``websocket.send`` goes straight
    through, after two lazy-object lookups per frame. At 1,000 sockets per
    broadcast that is measurable (bench/fanout.py), so the hub writes frames
    to the wrapped ``send`` directly. Anything else keeps ``base_send``.
    """
    from channels.sessions import InstanceSessionWrapper

    send = socket.base_send
    wrapper = getattr(send, "__self__", None)
    while isinstance(wrapper, InstanceSessionWrapper):
        send = wrapper.real_send
        wrapper = getattr(send, "__self__", None)
    return send


class _Keys:
    def __init__(self, prefix: str) -> None:
        self._prefix = f"{prefix}:presence"

    def _clients_key(self) -> str:
        return f"{self._prefix}:clients"

    def _room_key(self, room: str) -> str:
        return f"{self._prefix}:room:{room}"

    def _info_key(self, client_id: str) -> str:
        return f"{self._prefix}:client:{client_id}"


class _RedisPresence(_Keys):
    """Cross-process presence in Redis (sorted sets scored by expiry time)."""

    def __init__(self, url: str, prefix: str) -> None:
        import redis.asyncio as aioredis

        super().__init__(prefix)
        self._aio = aioredis.from_url(url)

    async def add(self, client_id: str, info: dict[str, str], rooms: set[str]) -> None:
        expiry = time.time() + PRESENCE_TTL
        pipe = self._aio.pipeline(transaction=False)
        pipe.zadd(self._clients_key(), {client_id: expiry})
        pipe.hset(self._info_key(client_id), mapping=info)
        pipe.expire(self._info_key(client_id), int(PRESENCE_TTL))
        for room in rooms:
            pipe.zadd(self._room_key(room), {client_id: expiry})
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

    async def close(self) -> None:
        await self._aio.aclose()


class _PresenceReader(_Keys):
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


class ConnectionManager:
    """Connections and rooms of this server process, with cross-process presence."""

    def __init__(self) -> None:
        self._clients: dict[str, _Client] = {}
        self._rooms: dict[str, dict[str, _Client]] = {}
        self._layer = None
        self._hub_channel: str | None = None
        self._tasks: list[asyncio.Task[None]] = []
        self._loop: asyncio.AbstractEventLoop | None = None
        self._start_lock: asyncio.Lock | None = None
        self._lock_loop: asyncio.AbstractEventLoop | None = None
        self._presence: _RedisPresence | None = None
        self._presence_reader: _PresenceReader | None = None
        self.frames_delivered = 0
        self.send_errors = 0
        self.slow_clients_dropped = 0
        self._inbox: deque[tuple[str | None, str]] = deque()
        self._inbox_ready: asyncio.Event | None = None

    # -- lifecycle -------------------------------------------------------------
    @property
    def running(self) -> bool:
        return bool(self._tasks) and self._loop is asyncio.get_running_loop()

    async def start(self) -> None:
        """Open the hub channel and start the receive and presence tasks."""
        loop = asyncio.get_running_loop()
        if self._tasks and self._loop is loop:
            return
        if self._lock_loop is not loop:
            self._start_lock, self._lock_loop = asyncio.Lock(), loop
        async with self._start_lock:
            if self._tasks and self._loop is not loop:
                # A new event loop (tests): the old tasks died with theirs.
                self._reset()
            if not self._tasks:
                await self._start_on(loop)

    async def _start_on(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop
        self._layer = get_channel_layer()
        self._hub_channel = await self._layer.new_channel()
        await self._layer.group_add(ALL_GROUP, self._hub_channel)
        for room in self._rooms:
            await self._layer.group_add(group_name(room), self._hub_channel)
        if settings.REDIS_URL and self._presence is None:
            self._presence = _RedisPresence(
                settings.REDIS_URL, settings.CHANNEL_LAYER_PREFIX
            )
        self._inbox.clear()
        self._inbox_ready = asyncio.Event()
        self._tasks = [
            loop.create_task(self._receive_loop(), name="hub-receive"),
            loop.create_task(self._deliver_loop(), name="hub-deliver"),
        ]
        if self._presence is not None:
            self._tasks.append(loop.create_task(self._refresh_loop(), name="presence"))

    async def stop(self) -> None:
        """Disconnect every local client and stop the hub."""
        if self._loop is not None and self._loop is not asyncio.get_running_loop():
            # Started on a loop that is gone (tests, a restarted server): its
            # tasks and sockets died with it; awaiting them would hang.
            self._reset()
            return
        try:
            await asyncio.wait_for(self._close_everything(), 5)
        except TimeoutError:
            logger.warning("Closing clients and presence took over 5 s; abandoned.")
        for task in self._tasks:
            task.cancel()
        try:
            await asyncio.wait_for(
                asyncio.gather(*self._tasks, return_exceptions=True), 3
            )
        except TimeoutError:
            logger.warning("Hub tasks did not stop within 3 s; abandoned.")
        self._reset()

    async def _close_everything(self) -> None:
        """Close local sockets; their presence entries expire on their own."""
        for client_id in list(self._clients):
            client = self._clients.pop(client_id)
            try:
                await client.socket.base_send({"type": "websocket.close", "code": 1001})
            except Exception:  # noqa: BLE001 - the socket may already be gone
                pass
        self._rooms.clear()

    def _reset(self) -> None:
        # An asyncio Redis client is bound to the loop that opened its
        # connections; a new loop (tests, a restarted server) needs a new one.
        self._presence = None
        self._tasks = []
        self._hub_channel = None
        self._layer = None
        self._loop = None
        self._clients.clear()
        self._rooms.clear()

    # -- clients and rooms (specification API) ------------------------------------
    async def connect_client(
        self,
        websocket: Any,
        client_id: str | None = None,
        *,
        user_id: int | None = None,
        remote: str | None = None,
    ) -> str:
        """Register a socket; returns its client id (a new uuid unless given)."""
        await self.start()
        client_id = client_id or uuid.uuid4().hex
        if client_id in self._clients:
            raise ValueError(f"client id {client_id!r} is already connected")
        client = _Client(
            socket=websocket,
            user_id=user_id,
            connected_at=datetime.now(UTC),
            remote=remote,
            transport=_transport_of(websocket),
            send=_frame_sender(websocket),
        )
        self._clients[client_id] = client
        if self._presence is not None:
            await self._presence.add(client_id, self._info_fields(client_id), set())
        return client_id

    async def disconnect_client(self, client_id: str) -> None:
        client = self._clients.pop(client_id, None)
        if client is None:
            return
        for room in list(client.rooms):
            await self._leave_local(client_id, room)
        if self._presence is not None:
            try:
                await self._presence.remove(client_id, client.rooms)
            except Exception:  # noqa: BLE001 - expiry cleans up if Redis is down
                logger.warning(
                    "presence removal failed for %s", client_id, exc_info=True
                )

    async def join_room(self, client_id: str, room: str) -> None:
        client = self._clients.get(client_id)
        if client is None or room in client.rooms:
            return
        client.rooms.add(room)
        members = self._rooms.get(room)
        if members is None:
            members = self._rooms[room] = {}
            await self._layer.group_add(group_name(room), self._hub_channel)
        members[client_id] = client
        if self._presence is not None:
            await self._presence.join(client_id, room)

    async def leave_room(self, client_id: str, room: str) -> None:
        client = self._clients.get(client_id)
        if client is None or room not in client.rooms:
            return
        await self._leave_local(client_id, room)
        if self._presence is not None:
            await self._presence.leave(client_id, room)

    async def _leave_local(self, client_id: str, room: str) -> None:
        client = self._clients.get(client_id)
        if client is not None:
            client.rooms.discard(room)
        members = self._rooms.get(room)
        if members is None:
            return
        members.pop(client_id, None)
        if not members:
            del self._rooms[room]
            if self._layer is not None and self._hub_channel is not None:
                await self._layer.group_discard(group_name(room), self._hub_channel)

    def rooms_of(self, client_id: str) -> set[str]:
        client = self._clients.get(client_id)
        return set(client.rooms) if client else set()

    # -- sending ---------------------------------------------------------------------
    async def send_to_client(self, client_id: str, message: WebSocketMessage) -> None:
        """Send one frame to one client, on this process or (via its channel) another."""
        if message.client_id is None:
            message.client_id = client_id
        text = message.to_json()
        client = self._clients.get(client_id)
        if client is not None:
            await self._send_text(client, text)
            return
        info = self.get_client_info(client_id)
        if info and info.get("channel_name"):
            await get_channel_layer().send(
                info["channel_name"], {"type": "client.frame", "text": text}
            )

    async def broadcast_to_room(self, room: str, message: WebSocketMessage) -> None:
        """Send to every client in ``room`` on every server process (one layer hop)."""
        if message.room is None:
            message.room = room
        await publish_frame(group_name(room), room, message.to_json())

    async def broadcast_to_all(self, message: WebSocketMessage) -> None:
        await publish_frame(ALL_GROUP, None, message.to_json())

    async def deliver_local(self, room: str | None, text: str) -> int:
        """Write one pre-serialised frame to every local member of ``room``."""
        targets = self._clients if room is None else self._rooms.get(room)
        if not targets:
            return 0
        sent = 0
        for client in list(targets.values()):
            if await self._send_text(client, text):
                sent += 1
        return sent

    async def _send_text(self, client: _Client, text: str) -> bool:
        if client.dropped:
            return False
        try:
            send = client.send or client.socket.base_send
            await send({"type": "websocket.send", "text": text})
        except Exception:  # noqa: BLE001 - one dead socket must not stop the rest
            self.send_errors += 1
            logger.debug("send to a closed socket dropped", exc_info=True)
            return False
        client.frames_sent += 1
        self.frames_delivered += 1
        if client.transport is not None and not (
            client.frames_sent % BACKLOG_CHECK_EVERY
        ):
            self._check_backlog(client)
        return True

    def _check_backlog(self, client: _Client) -> None:
        """Abort a socket whose reader fell too far behind (unbounded buffer)."""
        backlog = unsent_bytes(client.transport)
        if backlog <= settings.WS_MAX_CLIENT_BACKLOG_BYTES:
            return
        client.dropped = True
        self.slow_clients_dropped += 1
        logger.warning(
            "Disconnecting slow client %s (user %s): %d bytes unsent > %d",
            client.remote,
            client.user_id,
            backlog,
            settings.WS_MAX_CLIENT_BACKLOG_BYTES,
        )
        try:
            client.transport.abortConnection()
        except Exception:  # noqa: BLE001
            logger.debug("abort of a slow client failed", exc_info=True)

    # -- counts and info ----------------------------------------------------------
    def _reader(self) -> _PresenceReader | None:
        """Synchronous presence reads (any thread, even before the hub starts)."""
        if not settings.REDIS_URL:
            return None
        if self._presence_reader is None:
            self._presence_reader = _PresenceReader(
                settings.REDIS_URL, settings.CHANNEL_LAYER_PREFIX
            )
        return self._presence_reader

    def get_client_count(self) -> int:
        reader = self._reader()
        return reader.count(None) if reader else len(self._clients)

    def get_room_client_count(self, room: str) -> int:
        reader = self._reader()
        return reader.count(room) if reader else len(self._rooms.get(room, ()))

    def get_local_client_count(self) -> int:
        return len(self._clients)

    def get_client_info(self, client_id: str) -> dict[str, Any] | None:
        client = self._clients.get(client_id)
        if client is not None:
            return {
                "client_id": client_id,
                "user_id": client.user_id,
                "connected_at": client.connected_at.isoformat(),
                "rooms": sorted(client.rooms),
                "remote": client.remote,
                "frames_sent": client.frames_sent,
                "channel_name": getattr(client.socket, "channel_name", None),
                "local": True,
            }
        reader = self._reader()
        info = reader.info(client_id) if reader else None
        if info is None:
            return None
        user = info.get("user_id") or None
        return {**info, "user_id": int(user) if user else None, "local": False}

    def _info_fields(self, client_id: str) -> dict[str, str]:
        client = self._clients[client_id]
        return {
            "client_id": client_id,
            "user_id": "" if client.user_id is None else str(client.user_id),
            "connected_at": client.connected_at.isoformat(),
            "remote": client.remote or "",
            "channel_name": getattr(client.socket, "channel_name", "") or "",
        }

    # -- background tasks ------------------------------------------------------------------
    async def _receive_loop(self) -> None:
        layer, channel = self._layer, self._hub_channel
        while True:
            try:
                message = await layer.receive(channel)
            except asyncio.CancelledError:
                raise
            except Exception:  # noqa: BLE001 - e.g. Redis restarting: retry
                logger.warning("hub receive failed; retrying in 1 s", exc_info=True)
                await asyncio.sleep(1.0)
                await self._rejoin_groups()
                continue
            if message.get("type") == "room.frame":
                self._inbox.append((message.get("room"), message["text"]))
                self._inbox_ready.set()

    async def _deliver_loop(self) -> None:
        """Write received frames to local sockets, merging a backlog of price frames.

        Receiving is kept apart from writing so the hub channel is always drained
        (a broadcast to 1,000 sockets takes tens of ms). When several price frames
        for one room queued up meanwhile, they go out as ONE frame whose ``prices``
        list holds every update in order (nothing dropped): one send per socket
        instead of one per frame. Other frames keep their order relative to them.
        """
        inbox = self._inbox
        while True:
            await self._inbox_ready.wait()
            self._inbox_ready.clear()
            while inbox:
                items = list(inbox)
                inbox.clear()
                for room, text in _merge_price_frames(items):
                    await self.deliver_local(room, text)

    async def _rejoin_groups(self) -> None:
        """Re-add the hub to its groups (a restarted Redis forgot them)."""
        try:
            await self._layer.group_add(ALL_GROUP, self._hub_channel)
            for room in list(self._rooms):
                await self._layer.group_add(group_name(room), self._hub_channel)
        except Exception:  # noqa: BLE001
            logger.debug("group re-add failed", exc_info=True)

    async def _refresh_loop(self) -> None:
        while True:
            await asyncio.sleep(REFRESH_EVERY)
            try:
                for client_id, client in list(self._clients.items()):
                    await self._presence.add(
                        client_id, self._info_fields(client_id), client.rooms
                    )
                await self._rejoin_groups()
            except asyncio.CancelledError:
                raise
            except Exception:  # noqa: BLE001
                logger.warning("presence refresh failed", exc_info=True)


_PRICE_PREFIX = '{"type":"price_update",'


def _merge_price_frames(
    items: list[tuple[str | None, str]],
) -> list[tuple[str | None, str]]:
    """Join consecutive-in-time price frames per room into one frame (order kept).

    Price frames of a room are merged into the position of its first one, but a
    non-price frame (portfolio, alert, status) closes the run first, so nothing
    overtakes anything it followed. A single frame passes through untouched.
    """
    if len(items) == 1:
        return items
    out: list[tuple[str | None, str]] = []
    runs: dict[str | None, list[str]] = {}

    def close_runs() -> None:
        for room, texts in runs.items():
            out.append((room, texts[0] if len(texts) == 1 else _join_prices(texts)))
        runs.clear()

    for room, text in items:
        if text.startswith(_PRICE_PREFIX):
            runs.setdefault(room, []).append(text)
        else:
            close_runs()
            out.append((room, text))
    close_runs()
    return out


def _join_prices(texts: list[str]) -> str:
    frames = [json.loads(t) for t in texts]
    merged = frames[-1]  # newest envelope (timestamp), every update in order
    merged["data"] = {
        **merged["data"],
        "prices": [p for f in frames for p in f["data"].get("prices", [])],
    }
    return json.dumps(merged, separators=(",", ":"))


async def publish_frame(group: str, room: str | None, text: str) -> None:
    """Put one serialised frame on the channel layer for every hub in ``group``."""
    await get_channel_layer().group_send(
        group, {"type": "room.frame", "room": room, "text": text}
    )


_manager: ConnectionManager | None = None


def get_connection_manager() -> ConnectionManager:
    """The process-wide ConnectionManager (one hub per server process)."""
    global _manager
    if _manager is None:
        _manager = ConnectionManager()
    return _manager
