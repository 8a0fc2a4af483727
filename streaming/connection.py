"""One outbound exchange WebSocket that survives drops, silence and bursts.

A `StreamConnection` runs three kinds of task: a supervisor that opens the socket
and reopens it with jittered exponential backoff, a reader (plus a heartbeat
watchdog) per socket, and one dispatcher that outlives reconnects. The reader only
appends raw frames to a bounded deque, so a slow handler drops the oldest frames
instead of stalling the socket.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import json
import logging
import random
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from enum import Enum
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed
from websockets.protocol import State

from streaming.encoding import dumps
from streaming.exceptions import ConnectionError as StreamConnectionError

if TYPE_CHECKING:
    from streaming.manager import StreamManager

logger = logging.getLogger(__name__)

__all__ = ["StreamConfig", "StreamStatus", "StreamMetrics", "StreamConnection"]

MessageHandler = Callable[[Any], Any]
RawHandler = Callable[[bytes], Any]
StatusListener = Callable[["StreamStatus"], Any]
SubscriptionFactory = Callable[[], list[dict[str, Any]]]

#: Jitter multiplies each backoff delay by a factor in this range (then capped).
JITTER = (0.8, 1.2)


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


def build_url(url: str, params: dict[str, str]) -> str:
    """Merge `params` into the query of `url` (params win over existing keys)."""
    if not params:
        return url
    parts = urlsplit(url)
    query = dict(parse_qsl(parts.query, keep_blank_values=True))
    query.update(params)
    return urlunsplit(parts._replace(query=urlencode(query)))


class StreamConnection:
    """A self-healing client socket with heartbeat, backpressure and metrics."""

    def __init__(
        self,
        config: StreamConfig,
        manager: StreamManager | None = None,
        *,
        max_connection_age: float | None = None,
        open_timeout: float = 10.0,
        max_size: int | None = 2**20,
    ) -> None:
        self.config = config
        self.manager = manager
        self.max_connection_age = max_connection_age
        self.open_timeout = open_timeout
        self.max_size = max_size
        #: Delays actually slept between attempts, for observability and tests.
        self.backoff_delays: list[float] = []
        #: Inbound frames discarded because the buffer was full (oldest first).
        self.dropped_messages = 0
        self._metrics = StreamMetrics()
        self._status = StreamStatus.DISCONNECTED
        self._handlers: tuple[MessageHandler, ...] = ()
        self._raw_handlers: tuple[RawHandler, ...] = ()
        self._status_listeners: list[StatusListener] = []
        self._subscription_factory: SubscriptionFactory | None = None
        self._buffer: deque[bytes] = deque(maxlen=max(1, config.buffer_size))
        self._buffer_ready = asyncio.Event()
        self._ws: ClientConnection | None = None
        self._supervisor: asyncio.Task[None] | None = None
        self._dispatcher: asyncio.Task[None] | None = None
        self._attempt_waiters: list[asyncio.Future[bool]] = []
        self._closing = False
        self._force_reconnect = False
        self._failures = 0
        self._backoff_step = 0
        self._connected_since: datetime | None = None
        self._opened_at = 0.0
        self._last_rx = 0.0
        self._send_lock = asyncio.Lock()
        self._next_send_at = 0.0

    # -- public properties -------------------------------------------------

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
        """Live metrics; uptime is refreshed on read rather than on every frame.

        While disconnected, `uptime_seconds` holds the lifetime of the last socket.
        """
        if self._status is StreamStatus.CONNECTED:
            self._metrics.uptime_seconds = time.monotonic() - self._opened_at
        return self._metrics

    @property
    def connected_since(self) -> datetime | None:
        """When the current socket opened (aware UTC), None while not connected."""
        return self._connected_since

    @property
    def is_connected(self) -> bool:
        """Whether a socket is open right now."""
        return self._status is StreamStatus.CONNECTED and self._ws is not None

    # -- registration ------------------------------------------------------

    def add_handler(self, handler: MessageHandler) -> None:
        """Add a handler receiving each decoded JSON message (sync or async)."""
        if handler not in self._handlers:
            self._handlers = (*self._handlers, handler)

    def remove_handler(self, handler: MessageHandler) -> None:
        """Remove a message handler (no error when absent)."""
        self._handlers = tuple(h for h in self._handlers if h != handler)

    def add_raw_handler(self, handler: RawHandler) -> None:
        """Add a sync handler called by the reader with each raw frame as bytes.

        It runs on the hot path before buffering, so it must be quick.
        """
        if handler not in self._raw_handlers:
            self._raw_handlers = (*self._raw_handlers, handler)

    def remove_raw_handler(self, handler: RawHandler) -> None:
        """Remove a raw frame handler."""
        self._raw_handlers = tuple(h for h in self._raw_handlers if h != handler)

    def add_status_listener(self, listener: StatusListener) -> None:
        """Call `listener(status)` synchronously on every status transition."""
        if listener not in self._status_listeners:
            self._status_listeners.append(listener)

    def remove_status_listener(self, listener: StatusListener) -> None:
        """Stop notifying `listener`."""
        with contextlib.suppress(ValueError):
            self._status_listeners.remove(listener)

    def set_subscription_factory(self, factory: SubscriptionFactory | None) -> None:
        """Register the messages to (re)send after every successful (re)connect.

        Called at each open so the feed's current symbol set is always used.
        """
        self._subscription_factory = factory

    # -- lifecycle ---------------------------------------------------------

    def start(self) -> None:
        """Begin connecting in the background, retrying as configured."""
        if self._supervisor is not None and not self._supervisor.done():
            return
        self._closing = False
        self._failures = 0
        self._backoff_step = 0
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
        """Close the WebSocket connection and stop every task of this stream."""
        self._closing = True
        ws = self._ws
        if ws is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(ws.close(), self._close_timeout)
        tasks = [t for t in (self._supervisor, self._dispatcher) if t is not None]
        for task in tasks:
            task.cancel()
        # gather, unlike suppress(CancelledError), still lets our own caller cancel us.
        await asyncio.gather(*tasks, return_exceptions=True)
        self._supervisor = self._dispatcher = None
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
        return min(5.0, max(0.1, 2 * self.config.heartbeat_interval))

    # -- sending -----------------------------------------------------------

    async def send_message(self, message: dict[str, Any]) -> None:
        """Send `message` as JSON text, throttled to `rate_limit` per second.

        Raises streaming.exceptions.ConnectionError when no socket is open.
        """
        ws = self._ws
        if ws is None:
            raise StreamConnectionError(f"stream {self.stream_id} is not connected")
        payload = dumps(message)
        data = payload.encode()
        async with self._send_lock:
            await self._throttle()
            try:
                await ws.send(data, text=True)
            except ConnectionClosed as exc:
                raise StreamConnectionError(
                    f"stream {self.stream_id} closed while sending"
                ) from exc
        self._metrics.messages_sent += 1
        self._metrics.bytes_sent += len(data)

    async def _throttle(self) -> None:
        """Space sends evenly at 1/rate_limit seconds (exchanges cap inbound rate)."""
        rate = self.config.rate_limit
        if not rate or rate <= 0:
            return
        loop = asyncio.get_running_loop()
        now = loop.time()
        if self._next_send_at > now:
            await asyncio.sleep(self._next_send_at - now)
            now = loop.time()
        self._next_send_at = max(now, self._next_send_at) + 1.0 / rate

    # -- status ------------------------------------------------------------

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

    # -- supervisor --------------------------------------------------------

    async def _supervise(self) -> None:
        """Open, serve, and reopen the socket until closed or attempts run out."""
        if self._dispatcher is None or self._dispatcher.done():
            self._dispatcher = asyncio.create_task(
                self._dispatch(), name=f"stream-{self.stream_id}-dispatch"
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
                    await self._backoff()
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
                    await self._backoff()
        finally:
            if self._status is StreamStatus.ERROR and self._dispatcher is not None:
                # Nothing will arrive any more; leave no idle task behind.
                self._dispatcher.cancel()

    async def _backoff(self) -> None:
        # The exponent is bounded so a server flapping for days cannot overflow.
        delay = self.config.reconnect_delay * (2 ** min(self._backoff_step, 30))
        delay = min(self.config.max_reconnect_delay, delay * random.uniform(*JITTER))
        self._backoff_step += 1
        self.backoff_delays.append(delay)
        logger.info("[%s] reconnecting in %.3fs", self.stream_id, delay)
        await asyncio.sleep(delay)

    async def _open(self, status: StreamStatus) -> ClientConnection | None:
        self._set_status(status)
        url = build_url(self.config.url, self.config.params)
        try:
            # Our watchdog replaces the library keepalive so latency is measured
            # and silence is detected in one place.
            return await connect(
                url,
                additional_headers=self.config.headers or None,
                open_timeout=self.open_timeout,
                ping_interval=None,
                ping_timeout=None,
                close_timeout=self._close_timeout,
                max_size=self.max_size,
            )
        except Exception as exc:
            self._metrics.error_count += 1
            logger.warning("[%s] cannot connect to %s: %r", self.stream_id, url, exc)
            return None

    async def _serve(self, ws: ClientConnection) -> None:
        """Run one open socket until it closes, goes stale or reaches its max age."""
        loop = asyncio.get_running_loop()
        self._ws = ws
        self._opened_at = time.monotonic()
        self._last_rx = loop.time()
        self._connected_since = datetime.now(UTC)
        self._metrics.connection_count += 1
        self._set_status(StreamStatus.CONNECTED)
        logger.info("[%s] connected", self.stream_id)
        name = f"stream-{self.stream_id}"
        tasks = {asyncio.create_task(self._read(ws), name=f"{name}-read")}
        if self.config.heartbeat_interval and self.config.heartbeat_interval > 0:
            tasks.add(asyncio.create_task(self._watchdog(ws), name=f"{name}-watch"))
        if self.max_connection_age:
            tasks.add(asyncio.create_task(self._age_limit(ws), name=f"{name}-age"))
        try:
            await self._send_subscriptions()
            await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in tasks:
                task.cancel()
            for result in await asyncio.gather(*tasks, return_exceptions=True):
                if isinstance(result, Exception):
                    self._metrics.error_count += 1
                    logger.error("[%s] socket task failed: %r", self.stream_id, result)
            await self._close_socket(ws)
            lived = time.monotonic() - self._opened_at
            self._metrics.uptime_seconds = lived
            if lived >= max(
                self.config.heartbeat_interval, self.config.reconnect_delay
            ):
                self._backoff_step = 0  # healthy: start the backoff afresh
            self._ws = None
            self._connected_since = None

    async def _close_socket(self, ws: ClientConnection) -> None:
        """Close cleanly when the peer answers, abort when it has gone silent."""
        if ws.state is State.CLOSED:
            return
        if (
            asyncio.get_running_loop().time() - self._last_rx
            > 2 * self.config.heartbeat_interval
        ):
            ws.transport.abort()
            return
        try:
            await asyncio.wait_for(ws.close(), self._close_timeout)
        except Exception:
            ws.transport.abort()

    async def _send_subscriptions(self) -> None:
        factory = self._subscription_factory
        if factory is None:
            return
        try:
            messages = factory()
            for message in messages:
                await self.send_message(message)
        except StreamConnectionError:
            logger.warning("[%s] closed while subscribing", self.stream_id)
        except Exception:
            self._metrics.error_count += 1
            logger.exception("[%s] subscription factory failed", self.stream_id)

    async def _age_limit(self, ws: ClientConnection) -> None:
        """Reconnect proactively before the exchange cuts an old connection."""
        assert self.max_connection_age is not None
        await asyncio.sleep(self.max_connection_age)
        logger.info("[%s] max connection age reached", self.stream_id)
        self._force_reconnect = True

    # -- reading and dispatching ---------------------------------------------

    async def _read(self, ws: ClientConnection) -> None:
        """Hot path: count, stamp and buffer each frame; never waits on handlers."""
        buffer = self._buffer
        maxlen = buffer.maxlen
        ready = self._buffer_ready
        metrics = self._metrics
        loop = asyncio.get_running_loop()
        try:
            while True:
                raw = await ws.recv(decode=False)
                self._last_rx = loop.time()
                metrics.messages_received += 1
                metrics.bytes_received += len(raw)
                metrics.last_message_time = datetime.now(UTC)
                for raw_handler in self._raw_handlers:
                    try:
                        raw_handler(raw)
                    except Exception:
                        metrics.error_count += 1
                        logger.exception("[%s] raw handler failed", self.stream_id)
                if len(buffer) == maxlen:
                    self.dropped_messages += 1
                buffer.append(raw)
                ready.set()
        except ConnectionClosed as exc:
            logger.info(
                "[%s] connection closed (code=%s reason=%r)",
                self.stream_id,
                exc.rcvd.code if exc.rcvd else None,
                exc.rcvd.reason if exc.rcvd else "",
            )

    async def _dispatch(self) -> None:
        """Decode each frame once and hand it to every handler, isolating failures."""
        buffer = self._buffer
        ready = self._buffer_ready
        metrics = self._metrics
        while True:
            if not buffer:
                ready.clear()
                await ready.wait()
                continue
            raw = buffer.popleft()
            try:
                message = json.loads(raw, parse_float=Decimal)
            except ValueError:
                metrics.error_count += 1
                logger.warning(
                    "[%s] non-JSON frame dropped: %.80r", self.stream_id, raw
                )
                continue
            for handler in self._handlers:
                try:
                    result = handler(message)
                    if inspect.isawaitable(result):
                        await result
                except Exception:
                    metrics.error_count += 1
                    logger.exception("[%s] handler %r failed", self.stream_id, handler)

    async def _watchdog(self, ws: ClientConnection) -> None:
        """Ping every heartbeat and return when nothing arrived for two heartbeats."""
        interval = self.config.heartbeat_interval
        loop = asyncio.get_running_loop()
        next_ping = loop.time() + interval
        while True:
            await asyncio.sleep(interval / 4)
            now = loop.time()
            if now - self._last_rx > 2 * interval:
                self._metrics.error_count += 1
                logger.warning(
                    "[%s] no traffic for %.2fs, reconnecting",
                    self.stream_id,
                    now - self._last_rx,
                )
                return
            if now >= next_ping:
                next_ping = now + interval
                try:
                    pong = await ws.ping()
                except ConnectionClosed:
                    return
                pong.add_done_callback(self._on_pong)

    def _on_pong(self, pong: asyncio.Future[float]) -> None:
        if pong.cancelled() or pong.exception() is not None:
            return
        self._last_rx = asyncio.get_running_loop().time()
        self._metrics.latency_ms = pong.result() * 1000.0
