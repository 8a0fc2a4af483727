"""ConnectionManager: this process's WebSocket clients, their rooms, and fan-out.

Delivery path (built for 1,000+ sockets per process): frames for a room reach
this process once, on its hub channel (:mod:`.hub_channel`), and the broadcast
writer (:mod:`.writer`) frames each once and writes the same bytes to every
local socket (no consumer ``dispatch``, and its thread hop, per message).
Counts are in memory for one process; with ``REDIS_URL`` they come from the
cross-process presence sets (:mod:`.presence`).
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any, Protocol

from channels.layers import get_channel_layer

from . import asgi_transport
from .client_record import Client as _Client
from .hub_channel import HubChannel, publish_frame, publish_user_close
from .messages import WebSocketMessage
from .presence import REFRESH_EVERY, ROOMS_REFRESH_EVERY, Presence
from .rooms import ALL_GROUP, group_name
from .writer import BACKLOG_CHECK_EVERY, FrameWriter

logger = logging.getLogger(__name__)

__all__ = ["BACKLOG_CHECK_EVERY", "ConnectionManager", "get_connection_manager"]

STOP_CLOSE_TIMEOUT = 5.0  # seconds stop() spends closing sockets
STOP_TASKS_TIMEOUT = 3.0  # seconds stop() waits for its cancelled tasks


class Socket(Protocol):
    """What the manager needs from a connection (a Channels consumer)."""

    channel_name: str

    async def base_send(self, message: dict[str, Any]) -> None: ...


class ConnectionManager:
    """Connections and rooms of this server process, with cross-process presence."""

    def __init__(self) -> None:
        self._clients: dict[str, _Client] = {}
        self._rooms: dict[str, dict[str, _Client]] = {}
        self._channel: HubChannel | None = None
        self._tasks: list[asyncio.Task[None]] = []
        self._loop: asyncio.AbstractEventLoop | None = None
        self._start_lock: asyncio.Lock | None = None
        self._lock_loop: asyncio.AbstractEventLoop | None = None
        self._presence = Presence()
        # Clients sent a close, until their consumer reports them gone.
        self._closing: dict[str, asyncio.Event] = {}
        self._writer = FrameWriter()

    # Lifecycle.
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
        self._channel = HubChannel(
            self.deliver_local,
            rooms=lambda: self._rooms,
            close_user=self.close_user_local,
        )
        self._tasks = await self._channel.open(loop)
        if self._presence.open():
            self._tasks.append(loop.create_task(self._refresh_loop(), name="presence"))
            self._tasks.append(loop.create_task(self._rooms_loop(), name="rooms"))

    async def stop(self) -> None:
        """Disconnect every local client and stop the hub."""
        if self._loop is not None and self._loop is not asyncio.get_running_loop():
            # Started on a loop that is gone (tests, a restarted server): its
            # tasks and sockets died with it; awaiting them would hang.
            self._reset()
            return
        try:
            await asyncio.wait_for(self.close_all(1001), STOP_CLOSE_TIMEOUT)
        except TimeoutError:
            logger.warning("Closing clients took over %.0f s.", STOP_CLOSE_TIMEOUT)
        for task in self._tasks:
            task.cancel()
        try:
            await asyncio.wait_for(
                asyncio.gather(*self._tasks, return_exceptions=True),
                STOP_TASKS_TIMEOUT,
            )
        except TimeoutError:
            logger.warning("Hub tasks did not stop in %.0f s.", STOP_TASKS_TIMEOUT)
        self._reset()

    def _reset(self) -> None:
        self._presence.close()
        self._tasks = []
        self._channel = None
        self._loop = None
        self._clients.clear()
        self._rooms.clear()
        self._closing.clear()

    async def close_all(self, code: int = 1001) -> list[str]:
        """Close every local socket (1001: going away); returns the ids closed.

        Their presence entries are left to expire: stopping must not wait on
        Redis (it may be the very thing that is down).
        """
        closed = []
        for client_id in list(self._clients):
            client = self._clients.pop(client_id)
            self._closing[client_id] = asyncio.Event()
            if await self._close_socket(client, code):
                closed.append(client_id)
        self._rooms.clear()
        return closed

    async def wait_closed(self, client_ids: list[str], timeout: float) -> bool:
        """Wait (bounded) until closed clients' consumers saw their disconnect."""
        events = [e for c in client_ids if (e := self._closing.get(c)) is not None]
        try:
            async with asyncio.timeout(timeout):
                for event in events:
                    await event.wait()
        except TimeoutError:
            return False
        return True

    # Clients and rooms (specification API).
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
            transport=asgi_transport.transport_of(websocket),
            send=asgi_transport.frame_sender(websocket),
            direct=asgi_transport.direct_socket(websocket),
        )
        self._clients[client_id] = client
        asgi_transport.spread_keepalive(websocket)
        await self._presence.add(client_id, client.presence_fields(client_id), set())
        return client_id

    async def disconnect_client(self, client_id: str, *, code: int = 1000) -> None:
        """Close a client's socket and forget it, here or on its server process.

        The client is forgotten before the close is sent, so the consumer's own
        disconnect (which calls :meth:`client_gone`) finds nothing left to do.
        """
        client = await self._forget(client_id)
        if client is not None:
            await self._close_socket(client, code)
            return
        info = self.get_client_info(client_id)
        if info and info.get("channel_name"):
            await get_channel_layer().send(
                info["channel_name"], {"type": "client.close", "code": code}
            )

    async def close_user(self, user_id: int, *, code: int) -> None:
        """Close every socket of ``user_id`` on every server process.

        One message to every hub over the channel layer (this one included);
        the domain calls it when a user logs out or is deactivated.
        """
        await publish_user_close(user_id, code)

    async def close_user_local(self, user_id: int, code: int) -> int:
        """Close this process's sockets of ``user_id``; returns how many."""
        ids = [c for c, client in self._clients.items() if client.user_id == user_id]
        for client_id in ids:
            await self.disconnect_client(client_id, code=code)
        if ids:
            logger.info("Closed %d socket(s) of user %s (%d).", len(ids), user_id, code)
        return len(ids)

    async def client_gone(self, client_id: str) -> None:
        """The socket is closed (its consumer saw the disconnect): forget it."""
        await self._forget(client_id)
        closing = self._closing.pop(client_id, None)
        if closing is not None:
            closing.set()

    async def _forget(self, client_id: str) -> _Client | None:
        client = self._clients.pop(client_id, None)
        if client is None:
            return None
        for room in list(client.rooms):
            await self._leave_local(client_id, room)
        await self._presence.remove(client_id, client.rooms)
        return client

    @staticmethod
    async def _close_socket(client: _Client, code: int) -> bool:
        try:
            await asgi_transport.close_with_code(client.socket, code)
        except Exception:  # noqa: BLE001 - the socket may already be gone
            logger.debug("close of a gone socket failed", exc_info=True)
            return False
        return True

    async def join_room(self, client_id: str, room: str) -> None:
        client = self._clients.get(client_id)
        if client is None or room in client.rooms:
            return
        client.rooms.add(room)
        members = self._rooms.get(room)
        if members is None:
            members = self._rooms[room] = {}
            await self._channel.join(room)
            await self._presence.mark_rooms([room])  # publishers: now occupied
        members[client_id] = client
        await self._presence.join(client_id, room)

    async def leave_room(self, client_id: str, room: str) -> None:
        client = self._clients.get(client_id)
        if client is None or room not in client.rooms:
            return
        await self._leave_local(client_id, room)
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
            if self._channel is not None:
                await self._channel.leave(room)

    def rooms_of(self, client_id: str) -> set[str]:
        client = self._clients.get(client_id)
        return set(client.rooms) if client else set()

    # Sending.
    async def send_to_client(
        self, client_id: str, message: WebSocketMessage, *, key: str | None = None
    ) -> None:
        """One frame to one client, here or (via its channel) on another process.

        A frame with a ``key`` reaches a socket at most once (see ``claim_key``).
        """
        if message.client_id is None:
            message.client_id = client_id
        text = message.to_json()
        client = self._clients.get(client_id)
        if client is not None:
            if client.claim(key):
                await self._send_text(client, text)
            return
        info = self.get_client_info(client_id)
        if info and info.get("channel_name"):
            await get_channel_layer().send(
                info["channel_name"], {"type": "client.frame", "text": text, "key": key}
            )

    def claim_key(self, client_id: str, key: str | None) -> bool:
        """True if a keyed frame is new to this local client (and is noted)."""
        client = self._clients.get(client_id)
        return client is not None and client.claim(key)

    async def broadcast_to_room(
        self, room: str, message: WebSocketMessage, *, key: str | None = None
    ) -> None:
        """Send to every client in ``room`` on every server process (one layer hop)."""
        if message.room is None:
            message.room = room
        await publish_frame(group_name(room), room, message.to_json(), key=key)

    async def broadcast_to_all(self, message: WebSocketMessage) -> None:
        await publish_frame(ALL_GROUP, None, message.to_json())

    async def deliver_local(
        self, room: str | None, text: str, key: str | None = None
    ) -> int:
        """Write one pre-serialised frame to every local member of ``room``."""
        targets = self._clients if room is None else self._rooms.get(room)
        if not targets:
            return 0
        clients = list(targets.values())
        if key is not None:
            clients = [c for c in clients if c.claim(key)]
        return await self._writer.broadcast(clients, text)

    async def _send_text(self, client: _Client, text: str) -> bool:
        return await self._writer.send_text(client, text)

    @property
    def frames_delivered(self) -> int:
        return self._writer.frames_delivered

    @property
    def send_errors(self) -> int:
        return self._writer.send_errors

    @property
    def slow_clients_dropped(self) -> int:
        return self._writer.slow_clients_dropped

    def occupied_rooms(self, rooms: Iterable[str]) -> set[str]:
        """Which of ``rooms`` have a member in this process."""
        return {room for room in rooms if self._rooms.get(room)}

    # Counts and info (the metrics module reads these).
    def get_client_count(self) -> int:
        count = self._presence.count(None)
        return len(self._clients) if count is None else count

    def get_room_client_count(self, room: str) -> int:
        count = self._presence.count(room)
        return len(self._rooms.get(room, ())) if count is None else count

    def get_local_client_count(self) -> int:
        return len(self._clients)

    def get_client_info(self, client_id: str) -> dict[str, Any] | None:
        client = self._clients.get(client_id)
        if client is not None:
            return client.info(client_id)
        return self._presence.info(client_id)

    async def _refresh_loop(self) -> None:
        while True:
            await asyncio.sleep(REFRESH_EVERY)
            try:
                await self._presence.refresh(
                    [
                        (client_id, client.presence_fields(client_id), client.rooms)
                        for client_id, client in list(self._clients.items())
                    ]
                )
                await self._channel.rejoin()
            except asyncio.CancelledError:
                raise
            except Exception:  # noqa: BLE001 - retried on the next refresh
                logger.warning("presence refresh failed", exc_info=True)

    async def _rooms_loop(self) -> None:
        # Often and cheap (one entry per room, not per client), so publishers
        # learn of rooms again soon after Redis lost them.
        while True:
            await asyncio.sleep(ROOMS_REFRESH_EVERY)
            await self._presence.mark_rooms(list(self._rooms))


_manager: ConnectionManager | None = None


def get_connection_manager() -> ConnectionManager:
    """The process-wide ConnectionManager (one hub per server process)."""
    global _manager
    if _manager is None:
        _manager = ConnectionManager()
    return _manager
