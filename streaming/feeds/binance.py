"""Binance spot market streams: ``<symbol>@ticker`` over combined-stream connections.

Parsing is pure (:meth:`BinancePriceFeed.parse`, in ``binance_frames``); each
shard's socket is a StreamConnection registered with the StreamManager, which
decodes ticker frames straight into a typed struct (``binance_frames.decode``).
This module keeps the shards: which streams ride which socket, batched
(UN)SUBSCRIBE requests, and the LIST_SUBSCRIPTIONS check after every connect.
"""

from __future__ import annotations

import asyncio
import logging
import re
from dataclasses import dataclass, field
from typing import Any, Unpack

from streaming.connection import StreamConnection
from streaming.exceptions import ConfigurationError, DataError
from streaming.exceptions import ConnectionError as StreamConnectionError
from streaming.feeds import binance_frames
from streaming.feeds.base import FeedStatus, PriceFeedProvider
from streaming.feeds.binance_frames import (
    BINANCE_URL,
    is_server_shutdown,
    stream_url,
)
from streaming.feeds.socket_feed import SocketFeed, SocketOptions
from streaming.feeds.symbols import binance_stream_name, from_exchange_symbol
from streaming.stream_types import StreamConfig

__all__ = ["BinancePriceFeed", "is_server_shutdown", "BINANCE_URL", "stream_url"]

logger = logging.getLogger(__name__)

#: Binance: at most 1024 streams per connection, 5 incoming messages per second.
MAX_STREAMS_PER_CONNECTION = 1024
MAX_MESSAGES_PER_SECOND = 5
#: What we send: one below the limit, so a ping or network jitter that bunches
#: two frames together never trips Binance's disconnect.
SEND_RATE = MAX_MESSAGES_PER_SECOND - 1
#: Binance cuts connections at 24 h; reconnect on our terms a little earlier.
MAX_CONNECTION_AGE = 23.5 * 3600
_REPLY_KEYS = {"result", "error", "code"}
#: The feed's status is the best of its shards' (CONNECTING: first attempt).
_STATUS_ORDER = (
    FeedStatus.CONNECTED,
    FeedStatus.ERROR,
    FeedStatus.RECONNECTING,
    FeedStatus.CONNECTING,
)
_STREAM_IN_MSG = re.compile(r"[a-z0-9]+@[a-zA-Z0-9_]+")


@dataclass(slots=True)
class _Shard:
    """One connection carrying up to MAX_STREAMS_PER_CONNECTION streams."""

    stream_id: str
    url_streams: tuple[str, ...]
    streams: list[str]
    connection: Any = None
    status: FeedStatus = FeedStatus.DISCONNECTED
    to_subscribe: list[str] = field(default_factory=list)
    to_unsubscribe: list[str] = field(default_factory=list)


class BinancePriceFeed(SocketFeed):
    """Live prices from Binance ``@ticker`` streams, sharded over connections."""

    def __init__(
        self,
        symbols: list[str],
        *,
        url: str = BINANCE_URL,
        max_streams_per_connection: int = MAX_STREAMS_PER_CONNECTION,
        max_connection_age: float | None = MAX_CONNECTION_AGE,
        **options: Unpack[SocketOptions],
    ) -> None:
        for symbol in symbols:
            binance_stream_name(symbol)  # ConfigurationError for unsupported symbols
        super().__init__(
            PriceFeedProvider.BINANCE, symbols, url=stream_url(url), **options
        )
        self.max_streams = max_streams_per_connection
        self.max_connection_age = max_connection_age
        self.failed_requests = 0
        self._shards: list[_Shard] = []
        self._pending: dict[int, tuple[str, list[str]]] = {}
        self._next_id = 0
        self._shard_seq = 0

    # Pure parsing lives in binance_frames; kept here as the feed's API.
    parse = staticmethod(binance_frames.parse)
    parse_message = staticmethod(binance_frames.parse_message)

    async def start(self) -> None:
        """Open one connection per MAX_STREAMS_PER_CONNECTION symbols."""
        if self._running:
            return
        await super().start()
        self._set_status(FeedStatus.CONNECTING)
        await self._manager()
        streams = [binance_stream_name(s) for s in self.symbols]
        for i in range(0, max(len(streams), 1), self.max_streams):
            await self._connect_shard(
                self._new_shard(streams[i : i + self.max_streams])
            )

    async def stop(self) -> None:
        """Remove every connection from the manager and forget pending requests."""
        await self._cancel_tasks()
        for shard in self._shards:
            if shard.connection is not None:
                await self._stream_manager.remove_stream(shard.stream_id)
        self._shards.clear()
        self._pending.clear()
        await self._release_manager()
        await super().stop()

    def _new_shard(self, streams: list[str]) -> _Shard:
        """Register a shard at once so concurrent add_symbol calls can fill it."""
        self._shard_seq += 1
        shard = _Shard(f"binance-{self._shard_seq - 1}", tuple(streams), list(streams))
        self._shards.append(shard)
        return shard

    async def _connect_shard(self, shard: _Shard) -> None:
        streams = list(shard.url_streams)
        url = f"{self.url}?streams={'/'.join(streams)}" if streams else self.url
        config = StreamConfig(
            stream_id=shard.stream_id,
            url=url,
            symbols=list(streams),
            reconnect_delay=self.reconnect_delay,
            max_reconnect_delay=self.max_reconnect_delay,
            reconnect_attempts=self.reconnect_attempts,
            heartbeat_interval=self.heartbeat_interval,
            rate_limit=SEND_RATE,
        )

        def configure(conn: StreamConnection) -> None:
            shard.connection = conn
            conn.add_handler(lambda obj: self._on_frame(shard, obj))
            conn.set_subscription_factory(lambda: self._resubscribe(shard))
            conn.add_status_listener(lambda st: self._on_status(shard, st))

        added = await self._stream_manager.add_stream(
            config,
            provider=self.provider.value,
            configure=configure,
            max_connection_age=self.max_connection_age,
            data_timeout=self.data_timeout,
            # Ticker frames straight into a typed struct (binance_frames).
            decoder=binance_frames.decode,
        )
        if not added:
            self.errors += 1
            logger.error("%s: the stream manager refused it", shard.stream_id)
            return
        if not await shard.connection.connect():
            logger.warning("%s: first connect failed, retrying", shard.stream_id)

    def add_symbol(self, symbol: str) -> None:
        """Track ``symbol``; while running, SUBSCRIBE it on a shard with room."""
        stream = binance_stream_name(symbol)
        if symbol in self.symbols:
            return
        super().add_symbol(symbol)
        if not self._running:
            return
        shard = next(
            (s for s in self._shards if len(s.streams) < self.max_streams), None
        )
        if shard is None:
            # a fresh connection; its subscription factory subscribes shard.streams
            shard = self._new_shard([])
            shard.streams.append(stream)
            self._spawn(self._connect_shard(shard))
            return
        shard.streams.append(stream)
        shard.to_subscribe.append(stream)
        self._spawn(self._flush(shard))

    def remove_symbol(self, symbol: str) -> None:
        """Stop tracking ``symbol``; while running, UNSUBSCRIBE its stream."""
        super().remove_symbol(symbol)
        try:
            stream = binance_stream_name(symbol)
        except ConfigurationError:
            return
        for shard in self._shards:
            if stream in shard.streams:
                shard.streams.remove(stream)
                shard.to_unsubscribe.append(stream)
                self._spawn(self._flush(shard))

    def _request(self, method: str, params: list[str]) -> dict[str, Any]:
        self._next_id += 1
        self._pending[self._next_id] = (method, params)
        return {"method": method, "params": params, "id": self._next_id}

    async def _flush(self, shard: _Shard) -> None:
        """Send queued changes batched: at most one SUBSCRIBE and one UNSUBSCRIBE."""
        await asyncio.sleep(0)  # let add_symbol calls of this loop turn batch up
        batches = (
            ("SUBSCRIBE", shard.to_subscribe),
            ("UNSUBSCRIBE", shard.to_unsubscribe),
        )
        for method, queued in batches:
            if queued and shard.status is FeedStatus.CONNECTED:
                params = list(queued)
                queued.clear()
                try:
                    await shard.connection.send_message(self._request(method, params))
                except StreamConnectionError:
                    # the next connect reconciles from shard.streams
                    logger.info("%s: closed before %s", shard.stream_id, method)

    def _resubscribe(self, shard: _Shard) -> list[dict[str, Any]]:
        """Sent after every (re)connect: reconcile URL streams with wanted ones."""
        shard.to_subscribe.clear()
        shard.to_unsubscribe.clear()
        in_url = set(shard.url_streams)
        wanted = set(shard.streams)
        messages = []
        subscribe = [s for s in shard.streams if s not in in_url]
        unsubscribe = [s for s in shard.url_streams if s not in wanted]
        if subscribe:
            messages.append(self._request("SUBSCRIBE", subscribe))
        if unsubscribe:
            messages.append(self._request("UNSUBSCRIBE", unsubscribe))
        checked = [s for s in shard.url_streams if s in wanted]
        if checked:
            # Binance accepts unknown streams in the URL silently: ask what is live.
            messages.append(self._request("LIST_SUBSCRIPTIONS", checked))
            messages[-1].pop("params")
        return messages

    async def _on_frame(self, shard: _Shard, obj: Any) -> None:
        if is_server_shutdown(obj):
            logger.info("%s: serverShutdown received, reconnecting", shard.stream_id)
            self._spawn(shard.connection.reconnect())
            return
        if isinstance(obj, dict) and "id" in obj and obj.keys() & _REPLY_KEYS:
            self._on_reply(shard, obj)
            return
        try:
            update = self.parse_message(obj)
        except DataError as exc:
            self.errors += 1
            logger.warning("%s: bad frame: %s", shard.stream_id, exc)
            return
        if update is not None and self.tracks(update.symbol):
            await self.dispatch(update)

    def _on_reply(self, shard: _Shard, obj: dict[str, Any]) -> None:
        request = self._pending.pop(obj["id"], None)
        error = obj.get("error") or obj.get("msg")
        if error is None and "result" in obj:
            if request is not None and request[0] == "LIST_SUBSCRIPTIONS":
                live = obj["result"] if isinstance(obj["result"], list) else []
                for stream in request[1]:
                    if stream not in live and stream in shard.streams:
                        self._refuse(shard, stream, "not listed by the exchange")
            return
        self.failed_requests += 1
        self.errors += 1
        logger.warning("%s: request %s failed: %s", shard.stream_id, request, error)
        if request is not None and request[0] == "SUBSCRIBE":
            self._retry_subscribe(shard, request[1], str(error))

    def _retry_subscribe(self, shard: _Shard, params: list[str], error: str) -> None:
        """Binance refuses a whole SUBSCRIBE for one bad stream: report that one
        (all when the message names none) and subscribe the rest again."""
        named = [p for p in params if p in _STREAM_IN_MSG.findall(error)]
        for stream in named or params:
            self._refuse(shard, stream, error)
        rest = [p for p in params if p in shard.streams and p not in named]
        if named and rest:
            shard.to_subscribe.extend(rest)
            self._spawn(self._flush(shard))

    def _refuse(self, shard: _Shard, stream: str, reason: str) -> None:
        if stream in shard.streams:
            shard.streams.remove(stream)
        symbol = from_exchange_symbol(PriceFeedProvider.BINANCE, stream.split("@")[0])
        if symbol is not None:
            self.mark_unsupported(symbol, reason)

    def _on_status(self, shard: _Shard, status: Any) -> None:
        shard.status = FeedStatus(getattr(status, "value", status))
        if shard.status is FeedStatus.CONNECTED and (
            shard.to_subscribe or shard.to_unsubscribe
        ):
            self._spawn(self._flush(shard))
        # connected while any shard is: symbols of a dead shard go stale one by
        # one and the manager fails over per symbol, not for the whole feed
        statuses = {s.status for s in self._shards}
        overall = next(
            (st for st in _STATUS_ORDER if st in statuses), FeedStatus.DISCONNECTED
        )
        self._set_status(overall)

    def status_info(self) -> dict[str, Any]:
        info = super().status_info()
        info["failed_requests"] = self.failed_requests
        info["connections"] = {s.stream_id: s.status.value for s in self._shards}
        return info
