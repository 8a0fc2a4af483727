"""The queue between a stream's socket reader and its handlers.

The reader appends raw frames without waiting (a full buffer drops the
oldest: a slow handler must never stall the socket); one dispatcher task,
which outlives reconnects, decodes each frame once (by default generic JSON
with exact Decimals; a feed may pass a decoder typed for its exchange's
frames) and hands it to every handler, isolating their failures.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
from collections import deque
from collections.abc import Callable
from typing import Any

from streaming.encoding import exact_loads
from streaming.stream_types import StreamMetrics

logger = logging.getLogger(__name__)

__all__ = ["FrameInbox", "MessageHandler", "RawHandler", "Decoder"]

MessageHandler = Callable[[Any], Any]
RawHandler = Callable[[bytes], Any]
#: Turns one raw frame into JSON data (never a float amount); raises
#: ValueError (or RecursionError) for a bad frame.
Decoder = Callable[[bytes], Any]


class FrameInbox:
    """Bounded drop-oldest buffer of raw frames plus the handlers they go to."""

    def __init__(
        self,
        stream_id: str,
        size: int,
        metrics: StreamMetrics,
        decoder: Decoder | None = None,
    ) -> None:
        self.stream_id = stream_id
        self.decoder: Decoder = decoder or exact_loads
        self.metrics = metrics
        #: Inbound frames discarded because the buffer was full (oldest first).
        self.dropped = 0
        self.handlers: tuple[MessageHandler, ...] = ()
        self.raw_handlers: tuple[RawHandler, ...] = ()
        self._buffer: deque[bytes] = deque(maxlen=max(1, size))
        self._ready = asyncio.Event()

    def add(self, handler: MessageHandler) -> None:
        if handler not in self.handlers:
            self.handlers = (*self.handlers, handler)

    def remove(self, handler: MessageHandler) -> None:
        self.handlers = tuple(h for h in self.handlers if h != handler)

    def add_raw(self, handler: RawHandler) -> None:
        if handler not in self.raw_handlers:
            self.raw_handlers = (*self.raw_handlers, handler)

    def remove_raw(self, handler: RawHandler) -> None:
        self.raw_handlers = tuple(h for h in self.raw_handlers if h != handler)

    @property
    def pending(self) -> int:
        """Frames buffered and not yet taken by the dispatcher."""
        return len(self._buffer)

    def put(self, raw: bytes) -> None:
        """Hot path (the reader): raw handlers, then buffer; never awaits."""
        for raw_handler in self.raw_handlers:
            try:
                raw_handler(raw)
            except Exception:
                self.metrics.error_count += 1
                logger.exception("[%s] raw handler failed", self.stream_id)
        buffer = self._buffer
        if len(buffer) == buffer.maxlen:
            self.dropped += 1
        buffer.append(raw)
        self._ready.set()

    async def run(self) -> None:
        """The dispatcher: decode each frame once, hand it to every handler."""
        buffer = self._buffer
        ready = self._ready
        metrics = self.metrics
        decode = self.decoder
        while True:
            if not buffer:
                ready.clear()
                await ready.wait()
                continue
            raw = buffer.popleft()
            try:
                message = decode(raw)
            except (ValueError, RecursionError):
                metrics.error_count += 1
                logger.warning(
                    "[%s] non-JSON frame dropped: %.80r", self.stream_id, raw
                )
                continue
            for handler in self.handlers:
                try:
                    result = handler(message)
                    if result is not None and inspect.isawaitable(result):
                        await result
                except Exception:
                    metrics.error_count += 1
                    logger.exception("[%s] handler %r failed", self.stream_id, handler)
