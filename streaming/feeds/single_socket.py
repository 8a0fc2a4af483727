"""The lifecycle shared by feeds whose symbols all share one socket (Coinbase, Kraken).

Binance shards its streams over several sockets and keeps its own bookkeeping;
the others open exactly one socket through the worker's StreamManager (or a
manager of their own when used standalone), subscribe from a subscription
factory after every connect, and send (un)subscribe messages while connected.
"""

from __future__ import annotations

import asyncio
import logging
import sys
from typing import Any, ClassVar

from streaming.connection import StreamConnection
from streaming.exceptions import ConnectionError as StreamConnectionError
from streaming.feeds.base import BasePriceFeed, FeedStatus, PriceFeedProvider
from streaming.inbox import Decoder
from streaming.manager import StreamManager
from streaming.stream_types import StreamConfig

__all__ = ["SingleSocketFeed"]

logger = logging.getLogger(__name__)


class SingleSocketFeed(BasePriceFeed):
    """Start/stop, sending and status for a feed with one exchange socket.

    Subclasses set ``stream_id`` (and ``decoder`` when the exchange sends
    amounts as strings, so a faster exact decoder may read its frames) and
    implement ``_on_frame`` and ``_subscriptions``.
    """

    stream_id: ClassVar[str]
    #: The connection's frame decoder; None keeps the exact default
    #: (every JSON number with a fraction as a Decimal).
    decoder: ClassVar[Decoder | None] = None

    def __init__(
        self,
        provider: PriceFeedProvider,
        symbols: list[str],
        *,
        url: str,
        reconnect_delay: float,
        max_reconnect_delay: float,
        reconnect_attempts: int | None,
        heartbeat_interval: float,
        stream_manager: StreamManager | None,
        data_timeout: float | None,
    ) -> None:
        super().__init__(provider, symbols)
        self.url = url
        self.reconnect_delay = reconnect_delay
        self.max_reconnect_delay = max_reconnect_delay
        # A price feed never gives up: None retries for ever (backoff capped).
        self.reconnect_attempts = reconnect_attempts or sys.maxsize
        self.heartbeat_interval = heartbeat_interval
        #: Reopen the socket when nothing (not even a heartbeat) came this long.
        self.data_timeout = data_timeout
        self._stream_manager = stream_manager
        self._own_manager: StreamManager | None = None
        self._connection: StreamConnection | None = None
        self._tasks: set[asyncio.Task[Any]] = set()

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
        if self._stream_manager is None:
            # Standalone use (no worker): the feed owns a manager of its own.
            self._stream_manager = self._own_manager = StreamManager()
            await self._stream_manager.start()
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

        added = await self._stream_manager.add_stream(
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
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        if self._connection is not None and self._stream_manager is not None:
            await self._stream_manager.remove_stream(self.stream_id)
        self._connection = None
        self._on_stopped()
        if self._own_manager is not None:
            await self._own_manager.stop()
            self._stream_manager = self._own_manager = None
        await super().stop()

    # sending ----------------------------------------------------------------------
    def _send(self, message: dict[str, Any]) -> None:
        """Send while connected; otherwise the next connect subscribes anyway."""
        if self._connection is not None and self.connected:
            task = asyncio.ensure_future(self._send_now(self._connection, message))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

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
