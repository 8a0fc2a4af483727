"""WebSocketServer: serve an ASGI app with daphne in this process, and publish into it.

``start()`` runs daphne (Twisted on its asyncio reactor) in a background thread
of this process; the broadcast methods may be awaited from any event loop and
hop onto the server's loop when there is one, so the in-memory channel layer
of the embedded mode is only ever touched from one loop. Without ``start()``
(the ``run_feeds`` worker) they publish straight into the channel layer.
Twisted's reactor cannot be restarted: one start per process. The application
is passed in (the composition root knows it), so this generic layer never
imports the site.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any

from streaming.encoding import dumps
from streaming.exceptions import ConfigurationError

from .hub import get_connection_manager
from .hub_channel import publish_frame
from .messages import MessageType, WebSocketMessage
from .presence import RoomDirectory
from .rooms import ALL_GROUP, PRICES, SYSTEM, group_name, price_room, user_room

logger = logging.getLogger(__name__)

ASGIApp = Callable[..., Awaitable[None]]

__all__ = ["WebSocketServer", "price_frames"]

START_TIMEOUT = 30.0  # seconds for daphne to listen
CLOSE_TIMEOUT = 8.0  # seconds stop() spends closing client sockets
HANDSHAKE_TIMEOUT = 3.0  # of which waiting for clients to answer the close
JOIN_TIMEOUT = 5.0  # seconds for daphne's thread to end after the reactor stops
GOING_AWAY = 1001


def price_frames(
    prices: list[dict[str, Any]], occupied: set[str] | None = None
) -> list[tuple[str, str]]:
    """(room, frame text) pairs for one batch: ``prices`` plus each symbol's room.

    Each frame is serialised once per batch; with ``occupied``, only for the
    rooms in it (no work for rooms nobody joined).
    """
    now = WebSocketMessage(MessageType.PRICE_UPDATE, {}).timestamp.isoformat()
    frames = []
    if occupied is None or PRICES in occupied:
        data = {"prices": prices}
        frames.append((PRICES, _frame(MessageType.PRICE_UPDATE, data, PRICES, now)))
    for price in prices:
        room = price_room(price["symbol"])
        if occupied is None or room in occupied:
            data = {"prices": [price]}
            frames.append((room, _frame(MessageType.PRICE_UPDATE, data, room, now)))
    return frames


def price_rooms(prices: list[dict[str, Any]]) -> list[str]:
    """Every room a batch of prices may go to."""
    return [PRICES, *dict.fromkeys(price_room(p["symbol"]) for p in prices)]


def _frame(kind: MessageType, data: dict[str, Any], room: str | None, ts: str) -> str:
    # The WebSocketMessage shape, serialised once for every receiver.
    return dumps(
        {
            "type": kind.value,
            "data": data,
            "client_id": None,
            "room": room,
            "timestamp": ts,
        }
    )


class WebSocketServer:
    """The Channels equivalent of the specification's WebSocket server."""

    def __init__(
        self,
        host: str = "localhost",
        port: int = 8000,
        *,
        application: ASGIApp | None = None,
        **daphne_options: Any,
    ) -> None:
        self.host = host
        self.port = port
        self.application = application
        self._daphne_options = daphne_options
        self._thread: threading.Thread | None = None
        self._server: Any = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._ready = threading.Event()
        self._error: str | None = None
        self._directory: RoomDirectory | None = None

    # Lifecycle.
    async def start(self) -> None:
        """Serve the ASGI application with daphne; returns once it listens."""
        if self.application is None:
            raise ConfigurationError(
                "WebSocketServer needs the ASGI application to serve: "
                "WebSocketServer(host, port, application=...)."
            )
        if self._thread is not None:
            raise ConfigurationError(
                "WebSocketServer already started (one per process)."
            )
        self._thread = threading.Thread(target=self._serve, name="daphne", daemon=True)
        self._thread.start()
        ready = await asyncio.to_thread(self._ready.wait, START_TIMEOUT)
        if not ready or self._error:
            reason = self._error or "timeout"
            raise ConfigurationError(
                f"daphne did not start on {self.host}:{self.port}: {reason}"
            )

    def _serve(self) -> None:
        # Importing daphne.server installs Twisted's asyncio reactor.
        from daphne.endpoints import build_endpoint_description_strings
        from daphne.server import Server
        from django.conf import settings
        from twisted.internet import reactor

        def ready() -> None:
            reactor.callLater(0, self._check_listening)

        # autobahn's own cap only drops the TCP connection (the client sees
        # 1006, no reason): it sits above the consumer's limit, which answers
        # with an ERROR frame and closes with 4009.
        options = {
            "websocket_max_message_size": 4 * settings.WS_MAX_FRAME_BYTES,
            **self._daphne_options,
        }
        self._server = Server(
            application=self.application,
            endpoints=build_endpoint_description_strings(
                host=self.host, port=self.port
            ),
            signal_handlers=False,
            ready_callable=ready,
            **options,
        )
        try:
            self._server.run()
        except Exception as exc:  # noqa: BLE001
            self._error = str(exc)
            logger.exception("daphne stopped with an error")
        finally:
            if self._loop is None and not self._error:
                # A listen that fails before the reactor runs (port in use)
                # makes daphne return quietly, without ever being ready.
                self._error = "could not listen (address already in use?)"
            self._ready.set()

    def _check_listening(self) -> None:
        from twisted.internet import reactor

        server = self._server
        if server.listening_addresses:
            # Called by the running reactor: its event loop is the running one.
            self._loop = asyncio.get_running_loop()
            self.port = server.listening_addresses[0][1]
            logger.info("Serving on http://%s:%s/", self.host, self.port)
            self._ready.set()
        elif server.abort_start or not reactor.running:
            self._error = "listen failed (port in use?)"
            self._ready.set()
        else:
            reactor.callLater(0.02, self._check_listening)

    async def stop(self) -> None:
        """Close every client socket with 1001 (going away), then stop daphne."""
        if self._thread is None or self._loop is None:
            return
        from twisted.internet import reactor

        try:
            await asyncio.wait_for(
                self._on_server_loop(_close_clients()), CLOSE_TIMEOUT
            )
        except Exception:  # noqa: BLE001 - stopping goes on regardless
            logger.warning("closing clients failed", exc_info=True)
        reactor.callFromThread(reactor.stop)
        # Bounded: a client that reads nothing must not hold shutdown hostage
        # (the thread is a daemon; the process can exit without it).
        await asyncio.to_thread(self._thread.join, JOIN_TIMEOUT)
        if self._thread.is_alive():
            logger.warning("daphne did not stop within %.0f s.", JOIN_TIMEOUT)
        self._loop = None

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    @property
    def loop(self) -> asyncio.AbstractEventLoop | None:
        """daphne's event loop while it serves (None before ``start``)."""
        return self._loop

    async def _on_server_loop(self, coro: Coroutine[Any, Any, Any]) -> Any:
        """Await ``coro`` on the server's loop: inline when already on it.

        The live callers are on it (the embedded worker runs on daphne's loop,
        portfolio/runner.py) or there is none (``run_feeds``); ``stop()`` comes
        from the thread that started the server, so it hops.
        """
        loop = self._loop
        if loop is None or loop is asyncio.get_running_loop():
            return await coro
        return await asyncio.wrap_future(asyncio.run_coroutine_threadsafe(coro, loop))

    # Publishing (specification API).
    async def broadcast_prices(self, prices: list[dict[str, Any]]) -> None:
        """One batch of chosen prices to ``prices`` and each symbol's room."""
        await self._on_server_loop(self._publish_prices(prices))

    async def _publish_prices(self, prices: list[dict[str, Any]]) -> None:
        occupied = await self._occupied(price_rooms(prices))
        if occupied:
            await _publish_frames(price_frames(prices, occupied))

    async def _occupied(self, rooms: list[str]) -> set[str]:
        """Rooms with a member anywhere: Redis presence, else this process's hub."""
        if self._directory is None:
            from django.conf import settings

            if not settings.REDIS_URL:
                # In-memory layer: this process's hub is the only receiver.
                return get_connection_manager().occupied_rooms(rooms)
            self._directory = RoomDirectory(
                settings.REDIS_URL, settings.CHANNEL_LAYER_PREFIX
            )
        return await self._directory.occupied(rooms)

    async def broadcast_price_update(self, symbol: str, data: dict[str, Any]) -> None:
        await self.broadcast_prices([{**data, "symbol": symbol}])

    async def broadcast_portfolio_update(self, data: dict[str, Any]) -> None:
        """A portfolio summary, to its owner's private room only (``user_id``)."""
        user_id = data.get("user_id")
        if user_id is None:
            raise ConfigurationError(
                "portfolio updates need data['user_id']; never broadcast."
            )
        room = user_room("portfolio", user_id)
        await self._send(MessageType.PORTFOLIO_UPDATE, data, room)

    async def send_alert(self, data: dict[str, Any], room: str | None = None) -> None:
        """An alert to ``room``; by default its owner's alerts room, else everyone."""
        if room is None and data.get("user_id") is not None:
            room = user_room("alerts", data["user_id"])
        # Keyed by id: the replay on connect and this frame reach a socket once.
        key = f"alert:{data['id']}" if data.get("id") is not None else None
        await self._send(MessageType.ALERT, data, room, key=key)

    async def broadcast_system_status(self, data: dict[str, Any]) -> None:
        await self._on_server_loop(self._send_status(data))

    async def _send_status(self, data: dict[str, Any]) -> None:
        if await self._occupied([SYSTEM]):  # nobody watching: not even serialised
            await self._send(MessageType.SYSTEM_STATUS, data, SYSTEM)

    async def _send(
        self,
        kind: MessageType,
        data: dict[str, Any],
        room: str | None,
        *,
        key: str | None = None,
    ) -> None:
        text = WebSocketMessage(kind, data, room=room).to_json()
        group = ALL_GROUP if room is None else group_name(room)
        await self._on_server_loop(publish_frame(group, room, text, key=key))


async def _publish_frames(frames: list[tuple[str, str]]) -> None:
    for room, text in frames:
        await publish_frame(group_name(room), room, text)


async def _close_clients() -> None:
    """On the server's loop: close every socket, wait for the handshakes, stop the hub.

    Waiting (bounded) lets each client answer the close before the reactor
    stops, rather than having its connection cut mid-handshake.
    """
    hub = get_connection_manager()
    closed = await hub.close_all(GOING_AWAY)
    if not await hub.wait_closed(closed, HANDSHAKE_TIMEOUT):
        logger.info(
            "Some clients did not answer the close in %.0f s.", HANDSHAKE_TIMEOUT
        )
    await hub.stop()
