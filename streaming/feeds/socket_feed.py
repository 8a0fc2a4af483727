"""What every exchange feed shares: connection options, its StreamManager, its tasks.

Binance (several sharded sockets) and the single-socket feeds (Coinbase, Kraken)
open their sockets as StreamConnections registered with the worker's ONE
StreamManager; used standalone (no worker, e.g. a script or a test), a feed
starts a manager of its own and stops it again with the feed. Both kinds also
send requests from tasks of their own, cancelled when the feed stops.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Coroutine
from typing import Any, TypedDict

from streaming.feeds.base import BasePriceFeed, PriceFeedProvider
from streaming.manager import StreamManager
from streaming.pacing import PRICE_FEED_MAX_RECONNECT_DELAY

__all__ = ["SocketFeed", "SocketOptions"]


class SocketOptions(TypedDict, total=False):
    """The connection keywords every exchange feed takes (defaults below)."""

    reconnect_delay: float
    max_reconnect_delay: float
    reconnect_attempts: int | None
    heartbeat_interval: float
    stream_manager: StreamManager | None
    data_timeout: float | None


class SocketFeed(BasePriceFeed):
    """A feed whose exchange sockets are StreamConnections of a StreamManager."""

    def __init__(
        self,
        provider: PriceFeedProvider,
        symbols: list[str],
        *,
        url: str,
        reconnect_delay: float = 1.0,
        max_reconnect_delay: float = PRICE_FEED_MAX_RECONNECT_DELAY,
        reconnect_attempts: int | None = None,
        heartbeat_interval: float = 30.0,
        stream_manager: StreamManager | None = None,
        data_timeout: float | None = None,
    ) -> None:
        super().__init__(provider, symbols)
        self.url = url
        self.reconnect_delay = reconnect_delay
        self.max_reconnect_delay = max_reconnect_delay
        # A price feed never gives up: None retries for ever (backoff capped).
        self.reconnect_attempts = reconnect_attempts or sys.maxsize
        self.heartbeat_interval = heartbeat_interval
        #: Reopen a socket that sent nothing (not even a heartbeat) this long
        #: (None: never); exchanges push tickers every second or so.
        self.data_timeout = data_timeout
        self._stream_manager = stream_manager
        self._own_manager: StreamManager | None = None
        self._tasks: set[asyncio.Task[Any]] = set()

    async def _manager(self) -> StreamManager:
        """The manager the feed's sockets go to; standalone, one of its own."""
        if self._stream_manager is None:
            self._stream_manager = self._own_manager = StreamManager()
            await self._stream_manager.start()
        return self._stream_manager

    async def _release_manager(self) -> None:
        """Stop the feed's own manager, if it started one (never the worker's)."""
        own, self._own_manager = self._own_manager, None
        if own is not None:
            self._stream_manager = None
            await own.stop()

    def _spawn(self, coro: Coroutine[Any, Any, Any]) -> None:
        """Run ``coro`` as a task of the feed, cancelled by :meth:`_cancel_tasks`."""
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _cancel_tasks(self) -> None:
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
