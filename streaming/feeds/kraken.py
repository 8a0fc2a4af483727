"""Kraken Spot WebSocket v2 feed: the ``ticker`` channel.

Parsing is pure (:meth:`KrakenPriceFeed.parse` / :meth:`parse_entries`); socket
handling is delegated to ``streaming.connection.StreamConnection``. A real frame::

    {"channel":"ticker","type":"update","data":[{"symbol":"BTC/USD",
     "bid":91890.1,"bid_qty":0.02,"ask":91890.2,"ask_qty":1.5,"last":91890.15,
     "volume":2211.00070001,"vwap":91500.0,"low":90010.0,"high":92500.5,
     "change":-310.85,"change_pct":-0.34,"timestamp":"2026-11-28T08:15:01.000250Z"}]}

Unlike Binance and Coinbase, v2 writes amounts as JSON *numbers*, so frames must
be decoded with every such number as a Decimal (``parsing.loads``; the
connection's inbox uses the same exact decoder): a float would lose digits of
``97123.456789012345``. A
valid decimal *string* is accepted too (still exact); floats, NaN and Infinity
are refused.

Kraken acknowledges or refuses each pair of a subscribe on its own, so one
unknown pair ("Currency pair not supported ABC/USD") is marked unsupported and
the others keep streaming. A ticker carries no sequence number: an entry older
than the last accepted one for its symbol (a snapshot replayed after a
reconnect) is dropped and counted in ``out_of_order``.
"""

from __future__ import annotations

import itertools
import logging
import re
from datetime import datetime
from typing import Any, Unpack

from streaming.exceptions import DataError
from streaming.feeds.base import DataSource, PriceFeedProvider, PriceUpdate
from streaming.feeds.parsing import decimal_field, iso_time, loads, require_mapping
from streaming.feeds.single_socket import SingleSocketFeed
from streaming.feeds.socket_feed import SocketOptions
from streaming.feeds.symbols import from_exchange_symbol, to_exchange_symbol

__all__ = ["KrakenPriceFeed", "KRAKEN_URL"]

logger = logging.getLogger(__name__)

KRAKEN_URL = "wss://ws.kraken.com/v2"
CHANNEL = "ticker"
STREAM_ID = "kraken-0"
#: Kraken limits connection attempts per IP: back off further than the others.
MAX_RECONNECT_DELAY = 60.0
_TICKER_TYPES = frozenset({"snapshot", "update"})
_PAIR_IN_ERROR = re.compile(r"[A-Z0-9]+/[A-Z0-9]+")
#: Subscribe errors that say nothing about the pair being listed.
_NOT_A_REFUSAL = ("Already subscribed",)


def _entry(obj: Any) -> PriceUpdate | None:
    """One ``data`` entry of a ticker frame; None for a pair not quoted in USD."""
    obj = require_mapping(obj, "ticker entry")
    pair = obj.get("symbol")
    if not isinstance(pair, str):
        raise DataError("ticker entry without a string 'symbol'")
    symbol = from_exchange_symbol(PriceFeedProvider.KRAKEN, pair)
    if symbol is None:
        return None
    price = decimal_field(obj, "last", positive=True)
    volume = decimal_field(obj, "volume", optional=True)
    if volume is not None and volume < 0:
        raise DataError(f"negative volume {volume}")
    return PriceUpdate(
        symbol=symbol,
        price=price,
        timestamp=iso_time(obj, "timestamp"),
        volume_24h=volume,
        change_24h=decimal_field(obj, "change", optional=True),
        change_percent_24h=decimal_field(obj, "change_pct", optional=True),
        source=DataSource.KRAKEN,
    )


class KrakenPriceFeed(SingleSocketFeed):
    """Live prices from the Kraken Spot v2 ``ticker`` channel."""

    # Amounts are JSON numbers: the connection keeps its exact default decoder.
    stream_id = STREAM_ID

    def __init__(
        self,
        symbols: list[str],
        *,
        url: str = KRAKEN_URL,
        **options: Unpack[SocketOptions],
    ) -> None:
        for symbol in symbols:
            to_exchange_symbol(PriceFeedProvider.KRAKEN, symbol)
        options.setdefault("max_reconnect_delay", MAX_RECONNECT_DELAY)
        super().__init__(PriceFeedProvider.KRAKEN, symbols, url=url, **options)
        #: Symbols whose ticker subscription Kraken acknowledged on this socket.
        self.confirmed: set[str] = set()
        #: ``system`` of the last status message ("online", "maintenance", ...).
        self.system_status: str | None = None
        self._req_ids = itertools.count(1)
        self._last_time: dict[str, datetime] = {}

    # parsing (pure) ---------------------------------------------------------------
    @staticmethod
    def parse(raw: str | bytes) -> PriceUpdate | None:
        """Parse one raw frame: its first price, None without one, DataError if bad."""
        return KrakenPriceFeed.parse_message(loads(raw))

    @staticmethod
    def parse_message(obj: Any) -> PriceUpdate | None:
        """Parse one decoded frame into its first PriceUpdate (see parse_entries)."""
        entries = KrakenPriceFeed.parse_entries(obj)
        return entries[0] if entries else None

    @staticmethod
    def parse_entries(obj: Any) -> list[PriceUpdate]:
        """Every USD price of a decoded frame, in frame order.

        Empty for control frames (heartbeat, status, method responses such as
        acks, errors and pong) and other channels; DataError for a malformed
        frame or entry, so one bad entry never passes half a frame.
        """
        obj = require_mapping(obj, "frame")
        if "method" in obj:
            if not isinstance(obj["method"], str):
                raise DataError("method response without a string 'method'")
            return []
        channel = obj.get("channel")
        if not isinstance(channel, str):
            raise DataError("frame without a string 'channel' or 'method'")
        if channel != CHANNEL:
            return []
        kind = obj.get("type")
        # isinstance first: an unhashable type (a list) must not reach the set.
        if not isinstance(kind, str) or kind not in _TICKER_TYPES:
            raise DataError(f"ticker frame of unknown type {kind!r}")
        data = obj.get("data")
        if not isinstance(data, list) or not data:
            raise DataError("ticker frame without a non-empty 'data' list")
        entries = (_entry(item) for item in data)
        return [update for update in entries if update is not None]

    @staticmethod
    def subscribe_message(
        symbols: list[str], req_id: int, method: str = "subscribe"
    ) -> dict[str, Any]:
        """The (un)subscribe request for canonical ``symbols`` on the ticker."""
        pairs = [to_exchange_symbol(PriceFeedProvider.KRAKEN, s) for s in symbols]
        return {
            "method": method,
            "params": {"channel": CHANNEL, "symbol": pairs},
            "req_id": req_id,
        }

    # ordering ---------------------------------------------------------------------
    def accept_time(self, update: PriceUpdate) -> bool:
        """Whether ``update`` is not older than the last accepted one for its symbol."""
        last = self._last_time.get(update.symbol)
        if last is not None and update.timestamp < last:
            self.out_of_order += 1
            return False
        self._last_time[update.symbol] = update.timestamp
        return True

    def _on_stopped(self) -> None:
        self.confirmed.clear()

    def _subscriptions(self) -> list[dict[str, Any]]:
        # A new socket has no subscriptions: acks will rebuild the set.
        self.confirmed.clear()
        if not self.symbols:
            return []
        return [self.subscribe_message(self.symbols, next(self._req_ids))]

    def add_symbol(self, symbol: str) -> None:
        """Track ``symbol``; while connected, subscribe its pair at once."""
        to_exchange_symbol(PriceFeedProvider.KRAKEN, symbol)
        if symbol not in self.symbols:
            super().add_symbol(symbol)
            self.unsupported.discard(symbol)
            self._send(self.subscribe_message([symbol], next(self._req_ids)))

    def remove_symbol(self, symbol: str) -> None:
        """Stop tracking ``symbol``; while connected, unsubscribe its pair."""
        if symbol in self.symbols:
            super().remove_symbol(symbol)
            self.confirmed.discard(symbol)
            self._last_time.pop(symbol, None)
            message = self.subscribe_message(
                [symbol], next(self._req_ids), "unsubscribe"
            )
            self._send(message)

    # frames -----------------------------------------------------------------------
    async def _on_frame(self, obj: Any) -> None:
        try:
            updates = self.parse_entries(obj)
        except DataError as exc:
            self.errors += 1
            logger.warning("kraken: bad frame: %s", exc)
            return
        if not updates:
            self._on_control(obj)
            return
        for update in updates:
            if self.tracks(update.symbol) and self.accept_time(update):
                await self.dispatch(update)

    def _on_control(self, obj: dict[str, Any]) -> None:
        if "method" in obj:
            self._on_response(obj)
            return
        channel = obj.get("channel")
        if channel == "heartbeat":
            # v2 heartbeats name no pair: they prove the whole socket alive.
            for symbol in self.symbols:
                self.mark_alive(symbol)
        elif channel == "status":
            self._on_system_status(obj)

    def _on_system_status(self, obj: dict[str, Any]) -> None:
        data = obj.get("data")
        for item in data if isinstance(data, list) else []:
            if isinstance(item, dict) and isinstance(item.get("system"), str):
                self.system_status = item["system"]
                level = (
                    logging.INFO if self.system_status == "online" else logging.WARNING
                )
                logger.log(level, "kraken: system %s", self.system_status)

    def _on_response(self, obj: dict[str, Any]) -> None:
        """Acks and errors of (un)subscribe requests; pong needs nothing."""
        method = obj["method"]
        if method not in ("subscribe", "unsubscribe"):
            return
        if obj.get("success") is True:
            result = obj.get("result")
            pair = result.get("symbol") if isinstance(result, dict) else None
            symbol = from_exchange_symbol(PriceFeedProvider.KRAKEN, pair)
            if symbol is None:
                return
            if method == "subscribe" and symbol in self.symbols:
                self.confirmed.add(symbol)
            elif method == "unsubscribe":
                self.confirmed.discard(symbol)
            return
        self._on_refusal(method, obj)

    def _on_refusal(self, method: str, obj: dict[str, Any]) -> None:
        """Report a refused request; a refused subscribe marks its pair unsupported."""
        self.errors += 1
        error = str(obj.get("error") or "unknown error")
        logger.warning("kraken: %s refused: %s", method, error)
        if method != "subscribe" or error.startswith(_NOT_A_REFUSAL):
            return
        pairs = [obj["symbol"]] if isinstance(obj.get("symbol"), str) else []
        for pair in pairs or _PAIR_IN_ERROR.findall(error):
            symbol = from_exchange_symbol(PriceFeedProvider.KRAKEN, pair)
            if symbol in self.symbols:
                self.mark_unsupported(symbol, error)

    def status_info(self) -> dict[str, Any]:
        info = super().status_info()
        info["confirmed"] = sorted(self.confirmed)
        info["system"] = self.system_status
        return info
