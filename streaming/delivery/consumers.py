"""The WebSocket endpoint ``/ws/stream/``: thin; client mistakes get an ERROR frame.

Client frames (JSON objects):
  {"action": "subscribe", "rooms": ["prices", "prices.BTC", "system", "portfolio"]}
  {"action": "unsubscribe", "rooms": [...]}
  {"action": "ping"}                      -> STATUS frame {"event": "pong"}
  {"action": "<registered>", ...}         -> domain actions (e.g. "ack" alerts)
Prices, portfolio updates and alerts arrive through the process hub
(:mod:`streaming.delivery.hub`), not through this consumer's dispatch.
"""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from collections.abc import Awaitable, Callable
from typing import Any

from channels.generic.websocket import AsyncWebsocketConsumer
from django.conf import settings

from . import asgi_transport
from .client_frames import (
    CLOSE_FLOOD,
    CLOSE_TOO_LARGE,
    MAX_ROOMS_PER_CLIENT,
    ClientError,
    RateLimiter,
    decode_frame,
    rooms_from,
)
from .hub import get_connection_manager
from .messages import MessageType, WebSocketMessage
from .rooms import PRIVATE_KINDS, user_room
from .signals import client_connected, rooms_joined

logger = logging.getLogger(__name__)

__all__ = ["ActionHandler", "StreamConsumer", "register_action"]

ActionHandler = Callable[["StreamConsumer", dict[str, Any]], Awaitable[dict | None]]
_actions: dict[str, ActionHandler] = {}
# Open sockets per client address in this process: nothing else capped how
# many one address could hold. Decremented by __call__'s finally, so even a
# consumer that crashed gives its slot back.
_per_address: Counter[str] = Counter()


def register_action(name: str, handler: ActionHandler) -> None:
    """Let the domain layer answer a client action (its reply: a STATUS frame)."""
    _actions[name] = handler


def _client_address(scope: dict[str, Any]) -> str:
    """The address the cap counts: behind ``NUM_PROXIES`` trusted proxies their
    X-Forwarded-For entry; loopback (benchmarks, a local proxy that passes no
    header) is not capped, or one proxy's address would cap every client."""
    address = (scope.get("client") or ("",))[0] or ""
    proxies = getattr(settings, "NUM_PROXIES", 0)
    headers = dict(scope.get("headers") or [])
    forwarded = headers.get(b"x-forwarded-for", b"").decode("latin1")
    hops = [a.strip() for a in forwarded.split(",") if a.strip()]
    if proxies > 0 and hops:
        address = hops[-min(proxies, len(hops))]
    if address.startswith("127.") or address in ("::1", "localhost"):
        return ""
    return address


class StreamConsumer(AsyncWebsocketConsumer):
    client_id: str | None = None
    user_id: int | None = None
    _address: str | None = None

    # The base class reads this consumer's own layer channel (used only for
    # cross-process send_to_client) with a bare ``channel_layer.receive``: one
    # Redis error there closed EVERY socket with 1011. Retry it instead.
    @property
    def channel_receive(self) -> Callable[[], Awaitable[dict[str, Any]]]:
        return self._channel_receive_retrying

    @channel_receive.setter
    def channel_receive(self, value: Callable[[], Awaitable[dict[str, Any]]]) -> None:
        self._raw_channel_receive = value

    async def _channel_receive_retrying(self) -> dict[str, Any]:
        delay = 0.5
        while True:
            try:
                return await self._raw_channel_receive()
            except asyncio.CancelledError:
                raise
            except Exception:  # noqa: BLE001 - e.g. Redis restarting
                logger.warning("channel layer receive failed; retrying in %.1fs", delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 5.0)

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        # Whatever ends this consumer (a crash, a cancel, daphne giving up on
        # it), its client is forgotten: a consumer that died without
        # disconnect() left a ghost, counted, in its rooms and in presence.
        try:
            await super().__call__(scope, receive, send)
        finally:
            self._release_address()
            if self.client_id is not None:
                try:
                    await asyncio.wait_for(self.manager.client_gone(self.client_id), 5)
                except Exception:  # noqa: BLE001 - presence expires on its own
                    logger.warning("forgetting client %s failed", self.client_id)

    async def websocket_connect(self, message: dict[str, Any]) -> None:
        address = _client_address(self.scope)
        limit = settings.WS_MAX_CONNECTIONS_PER_ADDRESS
        if address and _per_address[address] >= limit:
            logger.warning("Refused a socket from %s: %d already open", address, limit)
            await self.close()  # before accept: the handshake is refused (403)
            return
        self._address = address
        _per_address[address] += 1
        await super().websocket_connect(message)

    def _release_address(self) -> None:
        address, self._address = self._address, None
        if address is None:
            return
        _per_address[address] -= 1
        if _per_address[address] <= 0:
            del _per_address[address]

    async def connect(self) -> None:
        user = self.scope.get("user")
        self.user_id = user.pk if user is not None and user.is_authenticated else None
        client = self.scope.get("client") or ("", "")
        self.manager = get_connection_manager()
        self.limiter = RateLimiter()
        await self.accept()
        self.client_id = await self.manager.connect_client(
            self, user_id=self.user_id, remote=f"{client[0]}:{client[1]}"
        )
        if self.user_id is not None:
            for kind in PRIVATE_KINDS:
                await self.manager.join_room(
                    self.client_id, user_room(kind, self.user_id)
                )
        await self.reply(
            MessageType.STATUS,
            {
                "event": "connected",
                "authenticated": self.user_id is not None,
                "rooms": sorted(self.manager.rooms_of(self.client_id)),
                "max_frame_bytes": settings.WS_MAX_FRAME_BYTES,
            },
        )
        await client_connected.asend(
            sender=self.__class__,
            client_id=self.client_id,
            user_id=self.user_id,
            manager=self.manager,
        )

    async def disconnect(self, code: int) -> None:
        # The socket is already closed: only forget it (closing it again, as
        # disconnect_client does, would send a second close).
        if self.client_id is not None:
            await self.manager.client_gone(self.client_id)

    async def receive(
        self, text_data: str | None = None, bytes_data: bytes | None = None
    ) -> None:
        asgi_transport.keep_keepalive_phase(self)
        try:
            if not self.limiter.take():
                raise ClientError("Too many frames; slow down.", "rate_limited")
            await self._handle(decode_frame(text_data, bytes_data))
        except ClientError as exc:
            await self.reply(MessageType.ERROR, {"message": str(exc), "code": exc.code})
            if exc.code == "rate_limited" and self.limiter.flooding:
                await self.close(code=CLOSE_FLOOD)
            elif exc.code == "too_large":
                await self.close(code=CLOSE_TOO_LARGE)
        except Exception:  # noqa: BLE001 - one bad frame must not kill the socket
            logger.exception("client frame failed")
            await self.reply(
                MessageType.ERROR,
                {"message": "Something went wrong; try again.", "code": "internal"},
            )

    async def _handle(self, payload: dict[str, Any]) -> None:
        action = payload.get("action")
        if action == "ping":
            await self.reply(MessageType.STATUS, {"event": "pong"})
        elif action in ("subscribe", "unsubscribe"):
            await self._subscription(action, rooms_from(payload, self.user_id))
        elif isinstance(action, str) and action in _actions:
            result = await _actions[action](self, payload)
            if result is not None:
                await self.reply(MessageType.STATUS, {"event": action, **result})
        else:
            known = sorted({"ping", "subscribe", "unsubscribe", *_actions})
            raise ClientError(
                f"Unknown action {action!r}; expected one of: {', '.join(known)}.",
                "unknown_action",
            )

    async def _subscription(self, action: str, rooms: list[str]) -> None:
        current = self.manager.rooms_of(self.client_id)
        if action == "subscribe":
            if len(current | set(rooms)) > MAX_ROOMS_PER_CLIENT:
                raise ClientError(
                    f"At most {MAX_ROOMS_PER_CLIENT} rooms per connection."
                )
            for room in rooms:
                await self.manager.join_room(self.client_id, room)
        else:
            for room in rooms:
                await self.manager.leave_room(self.client_id, room)
        subscribed = sorted(self.manager.rooms_of(self.client_id))
        await self.reply(
            MessageType.STATUS,
            {"event": f"{action}d", "rooms": rooms, "subscribed": subscribed},
        )
        if action == "subscribe" and rooms:
            await rooms_joined.asend(
                sender=self.__class__,
                client_id=self.client_id,
                user_id=self.user_id,
                rooms=rooms,
                manager=self.manager,
            )

    async def close(self, code: int | bool | None = None, reason: str | None = None):
        # Channels' close goes through daphne to autobahn, which refuses 1008
        # and 1009; asgi_transport knows how to send them anyway.
        if isinstance(code, int) and not isinstance(code, bool) and not reason:
            await asgi_transport.close_with_code(self, code)
        else:
            await super().close(code, reason)

    async def reply(self, kind: MessageType, data: dict[str, Any]) -> None:
        """Send a frame addressed to this client only."""
        message = WebSocketMessage(type=kind, data=data, client_id=self.client_id)
        await self.send(text_data=message.to_json())

    async def client_frame(self, event: dict[str, Any]) -> None:
        """A frame sent to this client from another process (send_to_client)."""
        key = event.get("key")
        if key is not None and not self.manager.claim_key(self.client_id, key):
            return  # this socket already got that frame (e.g. an alert)
        await self.send(text_data=event["text"])

    async def client_close(self, event: dict[str, Any]) -> None:
        """A close asked for by another process (disconnect_client)."""
        await self.close(code=event.get("code", 1000))
