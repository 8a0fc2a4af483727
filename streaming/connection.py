"""One outbound exchange WebSocket that survives drops, silence and bursts.

A `StreamConnection` runs a supervisor that opens the socket and reopens it
with capped, jittered exponential backoff; per socket, a reader (and, when the
feed asks for one, a no-data watchdog); and one dispatcher that outlives
reconnects. Liveness of the peer is websockets' own keepalive (`ping_interval`
/ `ping_timeout` = the heartbeat), and `latency_ms` is its measured round trip.
The reader only appends raw frames to a bounded deque, so a slow handler drops
the oldest frames instead of stalling the socket.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from datetime import datetime
from typing import Any

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from streaming.encoding import dumps
from streaming.exceptions import ConnectionError as StreamConnectionError
from streaming.inbox import Decoder, FrameInbox, MessageHandler, RawHandler
from streaming.pacing import Backoff, Throttle
from streaming.stream_session import StreamSession
from streaming.stream_types import (
    StreamConfig,
    StreamMetrics,
    StreamRegistry,
    StreamStatus,
    build_url,
)

logger = logging.getLogger(__name__)

__all__ = ["StreamConfig", "StreamStatus", "StreamMetrics", "StreamConnection"]

StatusListener = Callable[[StreamStatus], Any]
SubscriptionFactory = Callable[[], list[dict[str, Any]]]


class StreamConnection:
    """A self-healing client socket with keepalive, backpressure and metrics."""

    def __init__(
        self,
        config: StreamConfig,
        manager: StreamRegistry | None = None,
        *,
        max_connection_age: float | None = None,
        data_timeout: float | None = None,
        open_timeout: float = 10.0,
        max_size: int | None = 2**20,
        decoder: Decoder | None = None,
    ) -> None:
        self.config = config
        self.manager = manager
        self.max_connection_age = max_connection_age
        #: Reconnect when no frame at all arrived for this long (None: never).
        #: Keepalive proves the peer is there; this proves it still sends data.
        self.data_timeout = data_timeout
        self.open_timeout = open_timeout
        self.max_size = max_size
        self._backoff = Backoff(config.reconnect_delay, config.max_reconnect_delay)
        self._throttle = Throttle(config.rate_limit)
        self._metrics = StreamMetrics()
        self._status = StreamStatus.DISCONNECTED
        # decoder None: exact json, numbers as Decimal
        self._inbox = FrameInbox(
            config.stream_id, config.buffer_size, self._metrics, decoder
        )
        self._status_listeners: list[StatusListener] = []
        self._subscription_factory: SubscriptionFactory | None = None
        self._session: StreamSession | None = None
        self._supervisor: asyncio.Task[None] | None = None
        self._dispatcher: asyncio.Task[None] | None = None
        self._attempt_waiters: list[asyncio.Future[bool]] = []
        self._closing = False
        self._force_reconnect = False
        self._failures = 0
        self._send_lock = asyncio.Lock()

    @property
    def stream_id(self) -> str:
        """Identifier of the stream (from its config)."""
        return self.config.stream_id

    @property
    def status(self) -> StreamStatus:
        """Current status of the connection."""
        return self._status

    @property
    def metrics(self) -> StreamMetrics:
        """Live metrics; uptime and latency are refreshed on read, not per frame.

        While disconnected, `uptime_seconds` holds the lifetime of the last socket.
        """
        session = self._session
        if self._status is StreamStatus.CONNECTED and session is not None:
            self._metrics.uptime_seconds = session.lifetime
            if session.ws.latency:
                self._metrics.latency_ms = session.ws.latency * 1000.0
        return self._metrics

    @property
    def backoff_delays(self) -> list[float]:
        """Delays actually slept between attempts, for observability and tests."""
        return self._backoff.delays

    @property
    def dropped_messages(self) -> int:
        """Inbound frames discarded because the buffer was full (oldest first)."""
        return self._inbox.dropped

    @property
    def connected_since(self) -> datetime | None:
        """When the current socket opened (aware UTC), None while not connected."""
        session = self._session
        return session.connected_since if session is not None else None

    @property
    def is_connected(self) -> bool:
        """Whether a socket is open right now."""
        return self._status is StreamStatus.CONNECTED and self._session is not None

    @property
    def _ws(self) -> ClientConnection | None:
        session = self._session
        return session.ws if session is not None else None

    def add_handler(self, handler: MessageHandler) -> None:
        """Add a handler receiving each decoded JSON message (sync or async)."""
        self._inbox.add(handler)

    def remove_handler(self, handler: MessageHandler) -> None:
        """Remove a message handler (no error when absent)."""
        self._inbox.remove(handler)

    def add_raw_handler(self, handler: RawHandler) -> None:
        """Add a quick sync handler called by the reader with each raw frame."""
        self._inbox.add_raw(handler)

    def remove_raw_handler(self, handler: RawHandler) -> None:
        """Remove a raw frame handler."""
        self._inbox.remove_raw(handler)

    def add_status_listener(self, listener: StatusListener) -> None:
        """Call `listener(status)` synchronously on every status transition."""
        if listener not in self._status_listeners:
            self._status_listeners.append(listener)

    def remove_status_listener(self, listener: StatusListener) -> None:
        """Stop notifying `listener`."""
        with contextlib.suppress(ValueError):
            self._status_listeners.remove(listener)

    def set_subscription_factory(self, factory: SubscriptionFactory | None) -> None:
        """Messages to send after every (re)connect, built at each open."""
        self._subscription_factory = factory

    def start(self) -> None:
        """Begin connecting in the background, retrying as configured."""
        if self._supervisor is not None and not self._supervisor.done():
            return
        self._closing = False
        self._failures = 0
        self._backoff.reset()
        self._supervisor = asyncio.create_task(
            self._supervise(), name=f"stream-{self.stream_id}"
        )

    async def connect(self) -> bool:
        """Establish the connection; False (never an exception) when it fails.

        On failure the connection keeps retrying in the background until
        `reconnect_attempts` consecutive failures, then settles in ERROR.
        """
        if self.is_connected:
            return True
        waiter: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        self._attempt_waiters.append(waiter)
        self.start()
        supervisor = self._supervisor
        assert supervisor is not None
        await asyncio.wait({waiter, supervisor}, return_when=asyncio.FIRST_COMPLETED)
        if waiter.done():
            return waiter.result()
        self._attempt_waiters.remove(waiter)
        return False

    async def disconnect(self) -> None:
        """Close the socket, stop every task of this stream and clear its state."""
        self._closing = True
        ws = self._ws
        if self._session is not None:
            self._session.closing = True
        if ws is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(ws.close(), self._close_timeout)
        tasks = [t for t in (self._supervisor, self._dispatcher) if t is not None]
        for task in tasks:
            task.cancel()
        # gather, unlike suppress(CancelledError), still lets our own caller cancel us.
        await asyncio.gather(*tasks, return_exceptions=True)
        self._supervisor = self._dispatcher = None
        self._forget_socket()
        self._resolve_attempt(False)
        self._set_status(StreamStatus.DISCONNECTED)
        logger.info("[%s] disconnected", self.stream_id)

    async def reconnect(self) -> None:
        """Close the socket cleanly and reopen it at once, skipping the backoff.

        Used ahead of exchange-side cuts (Binance `serverShutdown`, 24-hour limit).
        """
        ws = self._ws
        if ws is None or self._supervisor is None or self._supervisor.done():
            self.start()
            return
        logger.info("[%s] forced reconnect", self.stream_id)
        self._force_reconnect = True
        with contextlib.suppress(Exception):
            await asyncio.wait_for(ws.close(), self._close_timeout)

    @property
    def _close_timeout(self) -> float:
        # Short: a peer that does not answer a close within half a heartbeat is
        # gone, and every second here is a second without prices.
        return min(5.0, max(0.05, self.config.heartbeat_interval / 2))

    async def wait_for_status(self, status: StreamStatus, timeout: float) -> bool:
        """Wait until the status equals `status`; False on timeout."""
        event = asyncio.Event()

        def listener(new: StreamStatus) -> None:
            if new is status:
                event.set()

        if self._status is status:
            return True
        self.add_status_listener(listener)
        try:
            await asyncio.wait_for(event.wait(), timeout)
            return True
        except TimeoutError:
            return False
        finally:
            self.remove_status_listener(listener)

    async def send_message(self, message: dict[str, Any]) -> None:
        """Send `message` as JSON text, throttled to `rate_limit` per second.

        Raises streaming.exceptions.ConnectionError when no socket is open.
        """
        ws = self._ws
        if ws is None:
            raise StreamConnectionError(f"stream {self.stream_id} is not connected")
        data = dumps(message).encode()
        async with self._send_lock:
            await self._throttle.wait()
            try:
                await ws.send(data, text=True)
            except ConnectionClosed as exc:
                raise StreamConnectionError(
                    f"stream {self.stream_id} closed while sending"
                ) from exc
        self._metrics.messages_sent += 1
        self._metrics.bytes_sent += len(data)

    def _set_status(self, status: StreamStatus) -> None:
        if status is self._status:
            return
        old, self._status = self._status, status
        logger.debug("[%s] status %s -> %s", self.stream_id, old.value, status.value)
        for listener in list(self._status_listeners):
            try:
                listener(status)
            except Exception:
                logger.exception("[%s] status listener failed", self.stream_id)

    def _resolve_attempt(self, ok: bool) -> None:
        waiters, self._attempt_waiters = self._attempt_waiters, []
        for waiter in waiters:
            if not waiter.done():
                waiter.set_result(ok)

    async def _supervise(self) -> None:
        """Open, serve, and reopen the socket until closed or attempts run out."""
        if self._dispatcher is None or self._dispatcher.done():
            self._dispatcher = asyncio.create_task(
                self._inbox.run(), name=f"stream-{self.stream_id}-dispatch"
            )
        status = StreamStatus.CONNECTING
        opened_before = False
        try:
            while not self._closing:
                ws = await self._open(status)
                status = StreamStatus.RECONNECTING
                self._resolve_attempt(ws is not None)
                if ws is None:
                    self._failures += 1
                    if self._failures >= self.config.reconnect_attempts:
                        logger.error(
                            "[%s] giving up after %s consecutive failures",
                            self.stream_id,
                            self._failures,
                        )
                        self._set_status(StreamStatus.ERROR)
                        return
                    self._set_status(StreamStatus.RECONNECTING)
                    await self._sleep_backoff()
                    continue
                self._failures = 0
                if opened_before:
                    self._metrics.reconnection_count += 1
                opened_before = True
                await self._serve(ws)
                if self._closing:
                    return
                self._set_status(StreamStatus.RECONNECTING)
                if self._force_reconnect:
                    self._force_reconnect = False
                else:
                    await self._sleep_backoff()
        finally:
            if self._status is StreamStatus.ERROR and self._dispatcher is not None:
                # Nothing will arrive any more; leave no idle task behind.
                self._dispatcher.cancel()

    async def _sleep_backoff(self) -> None:
        delay = self._backoff.next_delay()
        logger.info("[%s] reconnecting in %.3fs", self.stream_id, delay)
        await asyncio.sleep(delay)

    async def _open(self, status: StreamStatus) -> ClientConnection | None:
        self._set_status(status)
        url = build_url(self.config.url, self.config.params)
        heartbeat = self.config.heartbeat_interval or None
        try:
            return await connect(
                url,
                additional_headers=self.config.headers or None,
                open_timeout=self.open_timeout,
                ping_interval=heartbeat,
                ping_timeout=heartbeat,
                close_timeout=self._close_timeout,
                max_size=self.max_size,
            )
        except Exception as exc:
            self._metrics.error_count += 1
            logger.warning("[%s] cannot connect to %s: %r", self.stream_id, url, exc)
            return None

    async def _serve(self, ws: ClientConnection) -> None:
        """Run one open socket as a session, then record how it ended."""
        session = StreamSession(
            ws,
            stream_id=self.stream_id,
            metrics=self._metrics,
            inbox=self._inbox,
            data_timeout=self.data_timeout,
            max_age=self.max_connection_age,
            close_timeout=self._close_timeout,
        )
        self._session = session
        self._metrics.connection_count += 1
        self._set_status(StreamStatus.CONNECTED)
        logger.info("[%s] connected", self.stream_id)
        try:
            await session.run(self._send_subscriptions)
        finally:
            if session.aged_out:
                self._force_reconnect = True
            healthy = max(self.config.heartbeat_interval, self.config.reconnect_delay)
            if session.lifetime >= healthy:
                self._backoff.reset()  # healthy: start the backoff afresh
            self._forget_socket()

    def _forget_socket(self) -> None:
        """Record the closed socket's lifetime and clear what described it."""
        session, self._session = self._session, None
        if session is not None:
            self._metrics.uptime_seconds = session.lifetime

    async def _send_subscriptions(self) -> None:
        factory = self._subscription_factory
        if factory is None:
            return
        try:
            for message in factory():
                await self.send_message(message)
        except StreamConnectionError:
            logger.warning("[%s] closed while subscribing", self.stream_id)
        except Exception:
            self._metrics.error_count += 1
            logger.exception("[%s] subscription factory failed", self.stream_id)
