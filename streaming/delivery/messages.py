"""Frames sent to browsers: every server frame is a ``WebSocketMessage``."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import Enum
from typing import Any

from streaming.encoding import dumps

__all__ = ["MessageType", "WebSocketMessage"]


class MessageType(Enum):
    PRICE_UPDATE = "price_update"
    PORTFOLIO_UPDATE = "portfolio_update"
    ALERT = "alert"
    STATUS = "status"
    ERROR = "error"
    SYSTEM_STATUS = "system_status"


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
