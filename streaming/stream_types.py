"""The plain data of an outbound stream: its configuration, status and metrics.

Kept apart from :mod:`streaming.connection` so the manager, the feeds and the
metrics exporter can name these types without importing the socket code.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import Enum
from typing import Protocol
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

__all__ = [
    "StreamConfig",
    "StreamStatus",
    "StreamMetrics",
    "StreamRegistry",
    "build_url",
]


@dataclass
class StreamConfig:
    """Configuration for WebSocket stream connections."""

    stream_id: str
    url: str
    symbols: list[str] = field(default_factory=list)
    reconnect_attempts: int = 5
    reconnect_delay: float = 1.0
    max_reconnect_delay: float = 60.0
    heartbeat_interval: float = 30.0
    buffer_size: int = 1000
    rate_limit: int | None = None
    headers: dict[str, str] = field(default_factory=dict)
    params: dict[str, str] = field(default_factory=dict)


class StreamStatus(Enum):
    """Enumeration of possible stream states."""

    DISCONNECTED = "disconnected"
    CONNECTING = "connecting"
    CONNECTED = "connected"
    RECONNECTING = "reconnecting"
    ERROR = "error"


@dataclass
class StreamMetrics:
    """Performance metrics for stream connections."""

    messages_received: int = 0
    messages_sent: int = 0
    bytes_received: int = 0
    bytes_sent: int = 0
    connection_count: int = 0
    reconnection_count: int = 0
    error_count: int = 0
    last_message_time: datetime | None = None
    uptime_seconds: float = 0.0
    latency_ms: float = 0.0


class StreamRegistry(Protocol):
    """What a connection may ask of the manager that owns it (StreamManager)."""

    def get_stream_status(self, stream_id: str) -> StreamStatus | None: ...


def build_url(url: str, params: dict[str, str]) -> str:
    """Merge `params` into the query of `url` (params win over existing keys)."""
    if not params:
        return url
    parts = urlsplit(url)
    query = dict(parse_qsl(parts.query, keep_blank_values=True))
    query.update(params)
    return urlunsplit(parts._replace(query=urlencode(query)))
