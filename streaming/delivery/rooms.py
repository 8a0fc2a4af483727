"""Room names and the one helper that turns a room into a channel-layer group.

Public rooms: ``prices`` (every symbol), ``prices.<SYMBOL>``, ``system``.
Private rooms: ``portfolio.<user_id>`` and ``alerts.<user_id>``, joined only by
that logged-in user; a client may ask for them by their short alias
(``portfolio``, ``alerts``).
"""

from __future__ import annotations

import re

__all__ = [
    "PRICES",
    "SYSTEM",
    "PRIVATE_KINDS",
    "RoomError",
    "group_name",
    "price_room",
    "user_room",
    "resolve_room",
    "private_owner",
]

PRICES = "prices"
SYSTEM = "system"
PRIVATE_KINDS = ("portfolio", "alerts")
GROUP_PREFIX = "room."
ALL_GROUP = "hub.all"

_ROOM_RE = re.compile(
    r"^(?:prices|system|prices\.[A-Z0-9]{2,15}|(?:portfolio|alerts)\.[0-9]{1,18})$"
)
_MAX_ROOM_LEN = 64


class RoomError(ValueError):
    """A room name that is malformed or not open to this client."""


def group_name(room: str) -> str:
    """Channel-layer group for a room (valid: letters, digits, '.', '-', '_')."""
    return GROUP_PREFIX + room


def price_room(symbol: str) -> str:
    return f"{PRICES}.{symbol}"


def user_room(kind: str, user_id: int) -> str:
    if kind not in PRIVATE_KINDS:
        raise RoomError(f"Unknown private room kind {kind!r}.")
    return f"{kind}.{int(user_id)}"


def private_owner(room: str) -> int | None:
    """The user id owning a private room, or None for a public room."""
    kind, _, rest = room.partition(".")
    if kind in PRIVATE_KINDS and rest.isdigit():
        return int(rest)
    return None


def resolve_room(requested: object, user_id: int | None) -> str:
    """Validate a client's room request and return the room to join.

    Raises RoomError with a message fit to show the client.
    """
    if not isinstance(requested, str):
        raise RoomError("Room names must be strings.")
    if len(requested) > _MAX_ROOM_LEN:
        raise RoomError(f"Room name longer than {_MAX_ROOM_LEN} characters.")
    if requested in PRIVATE_KINDS:
        if user_id is None:
            raise RoomError(f"Room {requested!r} requires logging in.")
        return user_room(requested, user_id)
    if not _ROOM_RE.fullmatch(requested):
        raise RoomError(
            f"Unknown room {requested!r}: use 'prices', 'prices.<SYMBOL>' "
            "(e.g. prices.BTC), 'system', 'portfolio' or 'alerts'."
        )
    owner = private_owner(requested)
    if owner is not None and owner != user_id:
        raise RoomError(f"Room {requested!r} is private to another user.")
    return requested
