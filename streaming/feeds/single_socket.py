"""The lifecycle shared by feeds whose symbols all share one socket (Coinbase, Kraken).

Binance shards its streams over several sockets and keeps its own bookkeeping;
the others open exactly one socket through the worker's StreamManager (or a
manager of their own when used standalone), subscribe from a subscription
factory after every connect, and send (un)subscribe messages while connected.
"""

from __future__ import annotations

import logging
from typing import Any, ClassVar

from streaming.connection import StreamConnection
from streaming.exceptions import ConnectionError as StreamConnectionError
from streaming.feeds.base import FeedStatus
from streaming.feeds.socket_feed import SocketFeed
from streaming.inbox import Decoder
from streaming.stream_types import StreamConfig

__all__ = ["SingleSocketFeed"]

logger = logging.getLogger(__name__)


class SingleSocketFeed(SocketFeed):
    """Start/stop, sending and status for a feed with one exchange socket.

    Subclasses set ``stream_id`` (and ``decoder`` when a decoder typed for the
    exchange's frames reads them faster) and implement ``_on_frame`` and
    ``_subscriptions``; they take the connection keywords of
    :class:`~streaming.feeds.socket_feed.SocketFeed`.
    """

    stream_id: ClassVar[str]
    #: The connection's frame decoder; None keeps the exact default
    #: (every JSON number with a fraction as a Decimal).
    decoder: ClassVar[Decoder | None] = None
    _connection: StreamConnection | None = None

    # hooks ------------------------------------------------------------------------
    async def _on_frame(self, obj: Any) -> None:
        """Handle one decoded frame from the socket."""
        raise NotImplementedError

    def _subscriptions(self) -> list[dict[str, Any]]:
        """The messages that subscribe the current symbols on a new socket."""
        raise NotImplementedError

    def _on_stopped(self) -> None:
        """Forget per-socket state once the socket is released."""

    # lifecycle --------------------------------------------------------------------
    async def start(self) -> None:
        """Connect; the subscription factory subscribes right after every connect."""
        if self._connection is not None:
            return
        await super().start()
        self._set_status(FeedStatus.CONNECTING)
        manager = await self._manager()
        config = StreamConfig(
            stream_id=self.stream_id,
            url=self.url,
            symbols=list(self.symbols),
            reconnect_delay=self.reconnect_delay,
            max_reconnect_delay=self.max_reconnect_delay,
            reconnect_attempts=self.reconnect_attempts,
            heartbeat_interval=self.heartbeat_interval,
        )

        def configure(conn: StreamConnection) -> None:
            conn.add_handler(self._on_frame)
            conn.set_subscription_factory(self._subscriptions)
            conn.add_status_listener(self._on_status)
            self._connection = conn

        added = await manager.add_stream(
            config,
            provider=self.provider.value,
            configure=configure,
            data_timeout=self.data_timeout,
            decoder=self.decoder,
        )
        name = self.provider.value
        if not added or self._connection is None:
            self.errors += 1
            logger.error("%s: the stream manager refused %s", name, self.stream_id)
            return
        if not await self._connection.connect():
            logger.warning("%s: first connect failed, retrying", name)

    async def stop(self) -> None:
        """Disconnect and release the stream (and the own manager, if any)."""
        await self._cancel_tasks()
        if self._connection is not None and self._stream_manager is not None:
            await self._stream_manager.remove_stream(self.stream_id)
        self._connection = None
        self._on_stopped()
        await self._release_manager()
        await super().stop()

    # sending ----------------------------------------------------------------------
    def _send(self, message: dict[str, Any]) -> None:
        """Send while connected; otherwise the next connect subscribes anyway."""
        if self._connection is not None and self.connected:
            self._spawn(self._send_now(self._connection, message))

    async def _send_now(
        self, connection: StreamConnection, message: dict[str, Any]
    ) -> None:
        try:
            await connection.send_message(message)
        except StreamConnectionError:
            # the next connect subscribes the feed's current symbols
            what = message.get("type") or message.get("method")
            logger.info("%s: closed before %s", self.provider.value, what)

    def _on_status(self, status: Any) -> None:
        self._set_status(FeedStatus(getattr(status, "value", status)))
