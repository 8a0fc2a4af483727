"""Event types, events, filters and handler base of the in-process event bus."""

from __future__ import annotations

import itertools
import logging
import uuid
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import Enum
from typing import Any

from streaming.encoding import dumps, to_plain

logger = logging.getLogger(__name__)

_ID_PREFIX = uuid.uuid4().hex[:12]
_ids = itertools.count(1)

__all__ = ["EventType", "StreamEvent", "EventFilter", "EventHandler", "to_plain"]


class EventType(Enum):
    """Kinds of events carried by the bus (values from the specification)."""

    PRICE_UPDATE = "price_update"
    PORTFOLIO_UPDATE = "portfolio_update"
    ALERT_TRIGGERED = "alert_triggered"
    SYSTEM_STATUS = "system_status"
    CONNECTION_STATUS = "connection_status"
    ERROR = "error"


def _utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass(slots=True)
class StreamEvent:
    """One event on the bus; plain data so it can cross a channel layer unchanged."""

    event_type: EventType
    data: dict[str, Any]
    timestamp: datetime = field(default_factory=_utcnow)
    source: str | None = None
    event_id: str | None = None
    correlation_id: str | None = None

    def __post_init__(self) -> None:
        # Only fill the id when none was given, so replayed events keep theirs.
        # A process prefix plus a counter: unique, and far cheaper than uuid4
        # on the per-price hot path.
        if self.event_id is None:
            self.event_id = f"{_ID_PREFIX}-{next(_ids)}"

    def to_dict(self) -> dict[str, Any]:
        """Convert to dictionary representation (Decimal as str, ISO-8601 times)."""
        return {
            "event_type": self.event_type.value,
            "data": to_plain(self.data),
            "timestamp": self.timestamp.isoformat(),
            "source": self.source,
            "event_id": self.event_id,
            "correlation_id": self.correlation_id,
        }

    def to_json(self) -> str:
        """Convert to JSON string."""
        return dumps(self.to_dict())


@dataclass
class EventFilter:
    """Subscription filter; every criterion left as None accepts everything."""

    event_types: set[EventType] | None = None
    sources: set[str] | None = None
    symbols: set[str] | None = None
    custom_filter: Callable[[StreamEvent], bool] | None = None

    def matches(self, event: StreamEvent) -> bool:
        """Check if event matches this filter (all given criteria must hold)."""
        if self.event_types is not None and event.event_type not in self.event_types:
            return False
        if self.sources is not None and event.source not in self.sources:
            return False
        if self.symbols is not None:
            symbol = event.data.get("symbol") if isinstance(event.data, dict) else None
            if symbol not in self.symbols:
                return False
        if self.custom_filter is not None and not self.custom_filter(event):
            return False
        return True


class EventHandler(ABC):
    """Base for stateful subscribers that handle several event types."""

    @abstractmethod
    async def handle_event(self, event: StreamEvent) -> bool:
        """Handle an event. Return True if handled successfully."""

    def get_supported_event_types(self) -> set[EventType]:
        """Return set of supported event types (all by default)."""
        return set(EventType)
