"""Frames sent to browsers: every server frame is a ``WebSocketMessage``."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from enum import Enum
from typing import Any

__all__ = ["MessageType", "WebSocketMessage", "dumps"]


class MessageType(Enum):
    PRICE_UPDATE = "price_update"
    PORTFOLIO_UPDATE = "portfolio_update"
    ALERT = "alert"
    STATUS = "status"
    ERROR = "error"
    SYSTEM_STATUS = "system_status"


def _default(value: Any) -> Any:
    # Money travels as exact strings, times as ISO-8601.
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, (set, frozenset)):
        return sorted(value)
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def dumps(obj: Any) -> str:
    """Compact JSON with Decimal/datetime/Enum rendered exactly."""
    return json.dumps(obj, default=_default, separators=(",", ":"))


@dataclass(slots=True)
class WebSocketMessage:
    """One server→browser frame; ``client_id`` is set only on frames for one client."""

    type: MessageType
    data: dict[str, Any]
    client_id: str | None = None
    room: str | None = None
    timestamp: datetime = field(default_factory=lambda: datetime.now(UTC))

    def to_dict(self) -> dict[str, Any]:
        return {
            "type": self.type.value,
            "data": self.data,
            "client_id": self.client_id,
            "room": self.room,
            "timestamp": self.timestamp.isoformat(),
        }

    def to_json(self) -> str:
        return dumps(self.to_dict())
