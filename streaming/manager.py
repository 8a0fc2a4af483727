"""Registry of outbound streams: the one owner of every exchange connection.

Every feed registers each of its sockets here with :meth:`StreamManager.add_stream`
(shards and resubscription stay the feed's business), so status, metrics and
shutdown of all live streams are in one place.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import asdict
from typing import Any

from streaming.connection import StreamConnection
from streaming.encoding import to_plain
from streaming.stream_types import StreamConfig, StreamMetrics, StreamStatus

logger = logging.getLogger(__name__)

__all__ = ["StreamManager", "StreamStatusListener"]

#: ``listener(stream_id, provider, status)`` on every stream status change.
StreamStatusListener = Callable[[str, str | None, StreamStatus], Any]
Configure = Callable[[StreamConnection], None]


class StreamManager:
    """Manages WebSocket connections and message routing.

    Each connection supervises itself (reconnects, keepalive), so the manager
    holds no task of its own: `stop()` leaves nothing running.
    """

    def __init__(self, max_connections: int = 100):
        self.max_connections = max_connections
        self._connections: dict[str, StreamConnection] = {}
        self._providers: dict[str, str | None] = {}
        self._global_handlers: list[Callable[[Any], Any]] = []
        self._status_listeners: list[StreamStatusListener] = []
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
        self._providers.clear()
        await asyncio.gather(
            *(c.disconnect() for c in connections), return_exceptions=True
        )
        logger.info("stream manager stopped")

    async def add_stream(
        self,
        config: StreamConfig,
        *,
        provider: str | None = None,
        configure: Configure | None = None,
        **connection_options: Any,
    ) -> bool:
        """Create a stream; it starts connecting at once while the manager runs.

        ``configure(connection)`` runs before the first connect, so a feed's
        handlers and subscription factory see the very first frame.
        ``connection_options`` go to :class:`StreamConnection` (e.g.
        ``max_connection_age``, ``data_timeout``, ``decoder``). False for a
        duplicate id or when ``max_connections`` streams exist.
        """
        stream_id = config.stream_id
        if stream_id in self._connections:
            logger.warning("[%s] stream already exists", stream_id)
            return False
        if len(self._connections) >= self.max_connections:
            logger.warning(
                "[%s] refused: %s streams is the maximum",
                stream_id,
                self.max_connections,
            )
            return False
        connection = StreamConnection(config, self, **connection_options)
        for handler in self._global_handlers:
            connection.add_handler(handler)
        connection.add_status_listener(
            lambda status: self._notify(stream_id, provider, status)
        )
        if configure is not None:
            configure(connection)
        self._connections[stream_id] = connection
        self._providers[stream_id] = provider
        if self._running:
            connection.start()
        return True

    async def remove_stream(self, stream_id: str) -> None:
        """Remove and close a stream connection (no error for an unknown id)."""
        connection = self._connections.pop(stream_id, None)
        provider = self._providers.pop(stream_id, None)
        if connection is not None:
            await connection.disconnect()
            self._notify(stream_id, provider, StreamStatus.DISCONNECTED)

    def get_connection(self, stream_id: str) -> StreamConnection | None:
        """The connection object, for the feed that registered it."""
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

    def get_provider(self, stream_id: str) -> str | None:
        """The provider a stream was registered for (None when not given)."""
        return self._providers.get(stream_id)

    def streams_info(self) -> list[dict[str, Any]]:
        """Every stream as plain data: id, provider, URL, status, all metrics."""
        return [
            {
                "stream_id": sid,
                "provider": self._providers.get(sid),
                "url": connection.config.url,
                "status": connection.status.value,
                "metrics": to_plain(asdict(connection.metrics)),
            }
            for sid, connection in self._connections.items()
        ]

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

    def add_status_listener(self, listener: StreamStatusListener) -> None:
        """Call ``listener(stream_id, provider, status)`` on every status change."""
        self._status_listeners.append(listener)

    def _notify(
        self, stream_id: str, provider: str | None, status: StreamStatus
    ) -> None:
        for listener in list(self._status_listeners):
            try:
                listener(stream_id, provider, status)
            except Exception:
                logger.exception("[%s] stream status listener failed", stream_id)
