"""Registry of outbound streams: one place for feeds to add, watch and stop them."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any

from streaming.connection import (
    StreamConfig,
    StreamConnection,
    StreamMetrics,
    StreamStatus,
)

logger = logging.getLogger(__name__)

__all__ = ["StreamManager"]


class StreamManager:
    """Manages WebSocket connections and message routing.

    Each connection supervises itself (reconnects, heartbeat), so the manager
    holds no task of its own: `stop()` leaves nothing running.
    """

    def __init__(self, max_connections: int = 100):
        self.max_connections = max_connections
        self._connections: dict[str, StreamConnection] = {}
        self._global_handlers: list[Callable[[Any], Any]] = []
        self._running = False

    @property
    def running(self) -> bool:
        """Whether `start()` was called and `stop()` not yet."""
        return self._running

    async def start(self) -> None:
        """Start the manager and any stream added while it was stopped."""
        self._running = True
        for connection in self._connections.values():
            if connection.status is StreamStatus.DISCONNECTED:
                connection.start()
        logger.info("stream manager started with %s streams", len(self._connections))

    async def stop(self) -> None:
        """Close every stream concurrently and forget them."""
        self._running = False
        connections = list(self._connections.values())
        self._connections.clear()
        await asyncio.gather(
            *(c.disconnect() for c in connections), return_exceptions=True
        )
        logger.info("stream manager stopped")

    async def add_stream(self, config: StreamConfig) -> bool:
        """Create a stream and start it connecting in the background.

        False for a duplicate id or when `max_connections` streams exist.
        """
        if config.stream_id in self._connections:
            logger.warning("[%s] stream already exists", config.stream_id)
            return False
        if len(self._connections) >= self.max_connections:
            logger.warning(
                "[%s] refused: %s streams is the maximum",
                config.stream_id,
                self.max_connections,
            )
            return False
        connection = StreamConnection(config, self)
        for handler in self._global_handlers:
            connection.add_handler(handler)
        self._connections[config.stream_id] = connection
        connection.start()
        return True

    async def remove_stream(self, stream_id: str) -> None:
        """Remove and close a stream connection (no error for an unknown id)."""
        connection = self._connections.pop(stream_id, None)
        if connection is not None:
            await connection.disconnect()

    def get_connection(self, stream_id: str) -> StreamConnection | None:
        """The connection object, for feeds that register handlers on it."""
        return self._connections.get(stream_id)

    def get_stream_status(self, stream_id: str) -> StreamStatus | None:
        """Current status of a stream, None when unknown."""
        connection = self._connections.get(stream_id)
        return connection.status if connection is not None else None

    def get_stream_metrics(self, stream_id: str) -> StreamMetrics | None:
        """Live metrics of a stream, None when unknown."""
        connection = self._connections.get(stream_id)
        return connection.metrics if connection is not None else None

    def get_all_status(self) -> dict[str, StreamStatus]:
        """Status of every stream, keyed by id."""
        return {sid: c.status for sid, c in self._connections.items()}

    def add_global_handler(self, handler: Callable[[Any], Any]) -> None:
        """Add a message handler reaching every stream, present and future."""
        if handler in self._global_handlers:
            return
        self._global_handlers.append(handler)
        for connection in self._connections.values():
            connection.add_handler(handler)

    def remove_global_handler(self, handler: Callable[[Any], Any]) -> None:
        """Remove a global handler from every stream."""
        if handler in self._global_handlers:
            self._global_handlers.remove(handler)
        for connection in self._connections.values():
            connection.remove_handler(handler)
