"""One open socket of a StreamConnection: read it, watch it, age it out, close it.

The connection supervises (opens, backs off, reopens); a session lives exactly
as long as one socket, so everything here is about that socket only.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

from websockets.asyncio.client import ClientConnection
from websockets.exceptions import ConnectionClosed
from websockets.protocol import State

from streaming.inbox import FrameInbox
from streaming.stream_types import StreamMetrics

logger = logging.getLogger(__name__)

__all__ = ["StreamSession"]


class StreamSession:
    """Serve ``ws`` until it closes, goes quiet for ``data_timeout`` or ages out."""

    def __init__(
        self,
        ws: ClientConnection,
        *,
        stream_id: str,
        metrics: StreamMetrics,
        inbox: FrameInbox,
        data_timeout: float | None,
        max_age: float | None,
        close_timeout: float,
    ) -> None:
        self.ws = ws
        self.stream_id = stream_id
        self.metrics = metrics
        self.inbox = inbox
        self.data_timeout = data_timeout
        self.max_age = max_age
        self.close_timeout = close_timeout
        self.opened_at = time.monotonic()
        self.connected_since = datetime.now(UTC)
        #: True when the session ended because it reached ``max_age``.
        self.aged_out = False
        #: Set by the owner when it closes the socket on purpose.
        self.closing = False
        self._last_rx = asyncio.get_running_loop().time()

    @property
    def lifetime(self) -> float:
        """Seconds since the socket opened."""
        return time.monotonic() - self.opened_at

    async def run(self, on_open: Callable[[], Awaitable[None]]) -> None:
        """Call ``on_open`` (subscriptions), then serve until the socket ends."""
        name = f"stream-{self.stream_id}"
        tasks = {asyncio.create_task(self._read(), name=f"{name}-read")}
        if self.data_timeout:
            tasks.add(asyncio.create_task(self._watchdog(), name=f"{name}-watch"))
        if self.max_age:
            tasks.add(asyncio.create_task(self._age_limit(), name=f"{name}-age"))
        try:
            await on_open()
            await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in tasks:
                task.cancel()
            for result in await asyncio.gather(*tasks, return_exceptions=True):
                if isinstance(result, Exception):
                    self.metrics.error_count += 1
                    logger.error("[%s] socket task failed: %r", self.stream_id, result)
            await self.close()

    async def close(self) -> None:
        """Close cleanly when the peer answers; abort otherwise."""
        ws = self.ws
        if ws.state is State.CLOSED:
            return
        try:
            await asyncio.wait_for(ws.close(), self.close_timeout)
        except Exception:
            ws.transport.abort()

    async def _age_limit(self) -> None:
        """End the session before the exchange cuts an old connection."""
        assert self.max_age is not None
        await asyncio.sleep(self.max_age)
        logger.info("[%s] max connection age reached", self.stream_id)
        self.aged_out = True

    async def _watchdog(self) -> None:
        """Return (so the socket is reopened) when no frame came for data_timeout."""
        assert self.data_timeout is not None
        limit = self.data_timeout
        loop = asyncio.get_running_loop()
        while True:
            await asyncio.sleep(limit / 4)
            quiet = loop.time() - self._last_rx
            if quiet > limit:
                self.metrics.error_count += 1
                logger.warning(
                    "[%s] no data for %.2fs, reconnecting", self.stream_id, quiet
                )
                return

    async def _read(self) -> None:
        """Hot path: count, stamp and buffer each frame; never waits on handlers."""
        ws = self.ws
        put = self.inbox.put
        metrics = self.metrics
        loop = asyncio.get_running_loop()
        try:
            while True:
                raw = await ws.recv(decode=False)
                self._last_rx = loop.time()
                metrics.messages_received += 1
                metrics.bytes_received += len(raw)
                metrics.last_message_time = datetime.now(UTC)
                put(raw)
        except ConnectionClosed as exc:
            if exc.rcvd is None and not self.closing:
                # No close frame from the peer: keepalive timeout or a cut line.
                metrics.error_count += 1
            logger.info(
                "[%s] connection closed (code=%s reason=%r)",
                self.stream_id,
                exc.rcvd.code if exc.rcvd else None,
                exc.rcvd.reason if exc.rcvd else "",
            )
