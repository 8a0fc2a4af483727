"""The WebSocket endpoint ``/ws/stream/``: thin, every mistake answered with an ERROR frame.

Client frames (JSON objects):
  {"action": "subscribe", "rooms": ["prices", "prices.BTC", "system", "portfolio", "alerts"]}
  {"action": "unsubscribe", "rooms": [...]}
  {"action": "ping"}                      -> STATUS frame {"event": "pong"}
  {"action": "<registered>", ...}         -> domain actions (e.g. "ack" alerts)
Prices, portfolio updates and alerts arrive through the process hub
(:mod:`streaming.presence`), not through this consumer's dispatch.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

from channels.generic.websocket import AsyncWebsocketConsumer
from django.conf import settings

from .messages import MessageType, WebSocketMessage
from .presence import get_connection_manager
from .rooms import PRIVATE_KINDS, RoomError, resolve_room, user_room
from .signals import client_connected

logger = logging.getLogger(__name__)

MAX_ROOMS_PER_REQUEST = 50
MAX_ROOMS_PER_CLIENT = 100
RATE_PER_SECOND = 20.0
RATE_BURST = 40.0
FLOOD_CLOSE_AFTER = 200  # frames refused (without slowing down) before closing

ActionHandler = Callable[["StreamConsumer", dict[str, Any]], Awaitable[dict | None]]
_actions: dict[str, ActionHandler] = {}


def register_action(name: str, handler: ActionHandler) -> None:
    """Let the domain layer answer a client action (the reply becomes a STATUS frame)."""
    _actions[name] = handler


class ClientError(Exception):
    """A client mistake, answered with an ERROR frame; the socket stays open."""

    def __init__(self, message: str, code: str = "bad_request") -> None:
        super().__init__(message)
        self.code = code


class StreamConsumer(AsyncWebsocketConsumer):
    client_id: str | None = None
    user_id: int | None = None

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

    async def connect(self) -> None:
        user = self.scope.get("user")
        self.user_id = user.pk if user is not None and user.is_authenticated else None
        client = self.scope.get("client") or ("", "")
        self.manager = get_connection_manager()
        self._tokens = RATE_BURST
        self._last_refill = time.monotonic()
        self._refused = 0
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
        if self.client_id is not None:
            await self.manager.disconnect_client(self.client_id)

    async def receive(
        self, text_data: str | None = None, bytes_data: bytes | None = None
    ):
        try:
            if not self._take_token():
                raise ClientError("Too many frames; slow down.", "rate_limited")
            payload = self._decode(text_data, bytes_data)
            await self._handle(payload)
        except ClientError as exc:
            await self.reply(MessageType.ERROR, {"message": str(exc), "code": exc.code})
            if exc.code == "rate_limited" and self._refused > FLOOD_CLOSE_AFTER:
                await self.close(code=1008)
            elif exc.code == "too_large":
                await self.close(code=1009)

    def _take_token(self) -> bool:
        now = time.monotonic()
        self._tokens = min(
            RATE_BURST, self._tokens + (now - self._last_refill) * RATE_PER_SECOND
        )
        self._last_refill = now
        if self._tokens < 1:
            self._refused += 1
            return False
        self._tokens -= 1
        # Forgive refusals only once the bucket is (nearly) full again, i.e. the
        # client really slowed down: resetting on any accepted frame meant a
        # sustained flood (one token refills every 50 ms) was never closed.
        if self._tokens >= RATE_BURST - 1:
            self._refused = 0
        return True

    @staticmethod
    def _decode(text_data: str | None, bytes_data: bytes | None) -> dict[str, Any]:
        if text_data is None:
            raise ClientError("Binary frames are not supported; send JSON text.")
        if len(text_data) > settings.WS_MAX_FRAME_BYTES:
            raise ClientError(
                f"Frame of {len(text_data)} characters exceeds the limit of "
                f"{settings.WS_MAX_FRAME_BYTES}.",
                "too_large",
            )
        try:
            payload = json.loads(text_data)
        except ValueError:
            raise ClientError("Frame is not valid JSON.") from None
        if not isinstance(payload, dict):
            raise ClientError('Frame must be a JSON object like {"action": "ping"}.')
        return payload

    async def _handle(self, payload: dict[str, Any]) -> None:
        action = payload.get("action")
        if action == "ping":
            await self.reply(MessageType.STATUS, {"event": "pong"})
        elif action in ("subscribe", "unsubscribe"):
            rooms = self._rooms_from(payload)
            if action == "subscribe":
                if (
                    len(self.manager.rooms_of(self.client_id) | set(rooms))
                    > MAX_ROOMS_PER_CLIENT
                ):
                    raise ClientError(
                        f"At most {MAX_ROOMS_PER_CLIENT} rooms per connection."
                    )
                for room in rooms:
                    await self.manager.join_room(self.client_id, room)
            else:
                for room in rooms:
                    await self.manager.leave_room(self.client_id, room)
            await self.reply(
                MessageType.STATUS,
                {
                    "event": f"{action}d",
                    "rooms": rooms,
                    "subscribed": sorted(self.manager.rooms_of(self.client_id)),
                },
            )
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

    def _rooms_from(self, payload: dict[str, Any]) -> list[str]:
        rooms = payload.get("rooms")
        if not isinstance(rooms, list) or not rooms:
            raise ClientError('"rooms" must be a non-empty list of room names.')
        if len(rooms) > MAX_ROOMS_PER_REQUEST:
            raise ClientError(f"At most {MAX_ROOMS_PER_REQUEST} rooms per request.")
        try:
            return list(dict.fromkeys(resolve_room(r, self.user_id) for r in rooms))
        except RoomError as exc:
            raise ClientError(str(exc), "bad_room") from None

    async def reply(self, kind: MessageType, data: dict[str, Any]) -> None:
        """Send a frame addressed to this client only."""
        message = WebSocketMessage(type=kind, data=data, client_id=self.client_id)
        await self.send(text_data=message.to_json())

    async def client_frame(self, event: dict[str, Any]) -> None:
        """A frame sent to this client from another process (send_to_client)."""
        await self.send(text_data=event["text"])
