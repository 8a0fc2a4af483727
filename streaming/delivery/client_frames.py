"""What a browser may send on ``/ws/stream/``: parsing, limits and rate limiting.

Kept apart from the consumer so the endpoint stays thin and every rule that
turns a client mistake into an ERROR frame lives (and is tested) in one place.
"""

from __future__ import annotations

import json
import logging
import time
from typing import Any

from django.conf import settings

from streaming.encoding import nesting_exceeds

from .rooms import RoomError, resolve_room

logger = logging.getLogger(__name__)

__all__ = [
    "CLOSE_FLOOD",
    "CLOSE_SESSION_ENDED",
    "CLOSE_TOO_LARGE",
    "FLOOD_CLOSE_AFTER",
    "MAX_DEPTH",
    "MAX_ROOMS_PER_CLIENT",
    "MAX_ROOMS_PER_REQUEST",
    "RATE_BURST",
    "RATE_PER_SECOND",
    "ClientError",
    "RateLimiter",
    "decode_frame",
    "rooms_from",
]

MAX_ROOMS_PER_REQUEST = 50
MAX_ROOMS_PER_CLIENT = 100
RATE_PER_SECOND = 20.0
RATE_BURST = 40.0
FLOOD_CLOSE_AFTER = 200  # frames refused (without slowing down) before closing
MAX_DEPTH = 8  # nesting of arrays/objects a client frame may use
# Application close codes (4000-4999): daphne (autobahn) sends only 1000 and
# 3000-4999, and a refused code killed the socket with 1011 instead.
CLOSE_FLOOD = 4008  # like 1008, policy violation
CLOSE_TOO_LARGE = 4009  # like 1009, message too big
CLOSE_SESSION_ENDED = 4001  # the user logged out or was deactivated


class ClientError(Exception):
    """A client mistake, answered with an ERROR frame; the socket stays open."""

    def __init__(self, message: str, code: str = "bad_request") -> None:
        super().__init__(message)
        self.code = code


class RateLimiter:
    """A token bucket per connection: a burst of frames, then a steady rate."""

    def __init__(self) -> None:
        self._tokens = RATE_BURST
        self._last_refill = time.monotonic()
        self.refused = 0

    @property
    def flooding(self) -> bool:
        """Refused so often without slowing down that the socket should close."""
        return self.refused > FLOOD_CLOSE_AFTER

    def take(self) -> bool:
        now = time.monotonic()
        self._tokens = min(
            RATE_BURST, self._tokens + (now - self._last_refill) * RATE_PER_SECOND
        )
        self._last_refill = now
        if self._tokens < 1:
            self.refused += 1
            return False
        self._tokens -= 1
        # Forgive refusals only once the bucket is (nearly) full again, i.e. the
        # client really slowed down: resetting on any accepted frame meant a
        # sustained flood (one token refills every 50 ms) was never closed.
        if self._tokens >= RATE_BURST - 1:
            self.refused = 0
        return True


def decode_frame(text_data: str | None, bytes_data: bytes | None) -> dict[str, Any]:
    """The JSON object a client sent, or a ClientError saying what is wrong."""
    if text_data is None:
        raise ClientError("Binary frames are not supported; send JSON text.")
    if len(text_data) > settings.WS_MAX_FRAME_BYTES:
        raise ClientError(
            f"Frame of {len(text_data)} characters exceeds the limit of "
            f"{settings.WS_MAX_FRAME_BYTES}.",
            "too_large",
        )
    if nesting_exceeds(text_data, MAX_DEPTH):  # before json.loads can recurse
        raise ClientError(
            f"Frame is nested more than {MAX_DEPTH} levels deep.", "too_deep"
        )
    try:
        payload = json.loads(text_data)
    except (ValueError, RecursionError):
        raise ClientError("Frame is not valid JSON.") from None
    if not isinstance(payload, dict):
        raise ClientError('Frame must be a JSON object like {"action": "ping"}.')
    return payload


def rooms_from(payload: dict[str, Any], user_id: int | None) -> list[str]:
    """The rooms a (un)subscribe frame names, validated for this user, deduplicated."""
    rooms = payload.get("rooms")
    if not isinstance(rooms, list) or not rooms:
        raise ClientError('"rooms" must be a non-empty list of room names.')
    if len(rooms) > MAX_ROOMS_PER_REQUEST:
        raise ClientError(f"At most {MAX_ROOMS_PER_REQUEST} rooms per request.")
    try:
        return list(dict.fromkeys(resolve_room(r, user_id) for r in rooms))
    except RoomError as exc:
        raise ClientError(str(exc), "bad_room") from None
