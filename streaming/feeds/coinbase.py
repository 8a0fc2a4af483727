"""Coinbase Exchange WebSocket feed: ``ticker`` and ``heartbeat`` channels.

Parsing is pure (:meth:`CoinbasePriceFeed.parse` / :meth:`parse_ticker`); socket
handling is delegated to ``streaming.connection.StreamConnection``. A real frame::

    {"type":"ticker","sequence":37475248783,"product_id":"ETH-USD",
     "price":"1285.22","open_24h":"1310.79","volume_24h":"245532.79269678",
     "time":"2022-10-19T23:28:22.061769Z", ...}

Coinbase sends no 24 h change, so ``change_24h = price - open_24h`` and
``change_percent_24h = change / open_24h * 100`` quantized to 4 decimal places
(ROUND_HALF_EVEN): exact, and finer than any display needs.

Sequence numbers are per product and monotonic on the server across
connections, so the last seen sequence is kept over reconnects and an older
replayed frame is still dropped. The one exception: after a reconnect a lower
sequence whose ``time`` is newer than the last accepted frame means the
exchange reset its sequence, and it is accepted (logged) instead of silencing
the product forever. Gaps are normal (the ticker channel skips numbers).

Ticker frames are decoded straight into :class:`TickerFrame` (msgspec: one C
pass, only the fields read, types checked); any other frame is generic exact
JSON parsed from the dict, with the same checks and errors.
"""

from __future__ import annotations

import decimal
import logging
import re
from datetime import datetime
from decimal import Decimal
from typing import Any, Literal, Unpack

import msgspec

from streaming.exceptions import DataError
from streaming.feeds.base import DataSource, PriceFeedProvider, PriceUpdate
from streaming.feeds.parsing import (
    Amount,
    amount,
    decimal_field,
    iso_time,
    require_mapping,
    typed_decoder,
    utc_time,
)
from streaming.feeds.single_socket import SingleSocketFeed
from streaming.feeds.socket_feed import SocketOptions
from streaming.feeds.symbols import (
    from_exchange_symbol,
    symbol_reader,
    to_exchange_symbol,
)

__all__ = ["CoinbasePriceFeed", "COINBASE_URL", "PERCENT_QUANTUM", "TickerFrame"]

logger = logging.getLogger(__name__)

COINBASE_URL = "wss://ws-feed.exchange.coinbase.com"
CHANNELS = ["ticker", "heartbeat"]
STREAM_ID = "coinbase-0"
PERCENT_QUANTUM = Decimal("0.0001")
_PRODUCT_IN_REASON = re.compile(r"[A-Z0-9]+-[A-Z0-9]+")
_symbol_of = symbol_reader(PriceFeedProvider.COINBASE)
_NO_PRICE = frozenset({"heartbeat", "subscriptions", "last_match", "match"})


def _sequence(value: Any) -> int:
    if type(value) is not int or value < 0:
        raise DataError(f"ticker has no valid integer sequence: {value!r}")
    return value


class TickerFrame(msgspec.Struct):
    """A ``ticker`` frame, only the fields the parser reads."""

    type: Literal["ticker"]
    sequence: int
    product_id: str
    price: Amount
    time: datetime
    volume_24h: Amount | None = None
    open_24h: Amount | None = None


#: The feed's frame decoder: a :class:`TickerFrame`, else generic exact JSON.
decode = typed_decoder(TickerFrame)


def _update(
    symbol: str,
    price: Decimal,
    when: datetime,
    volume: Decimal | None,
    open_24h: Decimal | None,
) -> PriceUpdate:
    if volume is not None and volume < 0:
        raise DataError(f"negative volume {volume}")
    change = percent = None
    if open_24h is not None:
        change = price - open_24h
        if open_24h > 0:
            try:
                percent = (change * 100 / open_24h).quantize(PERCENT_QUANTUM)
            except decimal.InvalidOperation:
                raise DataError(
                    f"24h change of {price} from {open_24h} is out of range"
                ) from None
    # positional: the fields' order (symbol, price, timestamp, volume, change,
    # change %, source), a little cheaper per frame
    return PriceUpdate(
        symbol, price, when, volume, change, percent, DataSource.COINBASE
    )


def _from_ticker(frame: TickerFrame) -> tuple[PriceUpdate, int] | None:
    """The typed twin of the dict path: same checks, same errors."""
    symbol = _symbol_of(frame.product_id)
    if symbol is None:
        return None
    sequence = _sequence(frame.sequence)
    volume, open_24h = frame.volume_24h, frame.open_24h
    update = _update(
        symbol,
        amount(frame.price, "price", True),
        utc_time(frame.time, "time"),
        None if volume is None else amount(volume, "volume_24h"),
        None if open_24h is None else amount(open_24h, "open_24h"),
    )
    return update, sequence


class CoinbasePriceFeed(SingleSocketFeed):
    """Live prices from the Coinbase Exchange ``ticker`` channel."""

    stream_id = STREAM_ID
    # Ticker frames straight into a typed struct, the rest as exact JSON.
    decoder = staticmethod(decode)

    def __init__(
        self,
        symbols: list[str],
        *,
        url: str = COINBASE_URL,
        **options: Unpack[SocketOptions],
    ) -> None:
        for symbol in symbols:
            to_exchange_symbol(PriceFeedProvider.COINBASE, symbol)
        super().__init__(PriceFeedProvider.COINBASE, symbols, url=url, **options)
        self.confirmed: set[str] = set()
        self._last_seq: dict[str, tuple[int, datetime]] = {}
        self._reconnected: set[str] = set()

    # parsing (pure) ---------------------------------------------------------------
    @staticmethod
    def parse(raw: str | bytes) -> PriceUpdate | None:
        """Parse one raw frame; None for frames without a price, DataError if bad."""
        return CoinbasePriceFeed.parse_message(decode(raw))

    @staticmethod
    def parse_message(obj: Any) -> PriceUpdate | None:
        """Parse one decoded frame into a PriceUpdate (sequence discarded)."""
        parsed = CoinbasePriceFeed.parse_ticker(obj)
        return None if parsed is None else parsed[0]

    @staticmethod
    def parse_ticker(obj: Any) -> tuple[PriceUpdate, int] | None:
        """Parse a decoded frame into ``(update, sequence)``; the feed needs the
        sequence to drop stale frames, which PriceUpdate has no field for.

        None for heartbeats, subscription replies, other types and non-USD
        products; ``error`` frames and malformed tickers raise DataError.
        """
        if type(obj) is TickerFrame:
            return _from_ticker(obj)
        obj = require_mapping(obj, "frame")
        kind = obj.get("type")
        if kind == "error":
            raise DataError(
                f"coinbase error: {obj.get('message')} ({obj.get('reason')})"
            )
        if kind != "ticker":
            if not isinstance(kind, str):
                raise DataError("frame without a string 'type'")
            return None
        product = obj.get("product_id")
        if not isinstance(product, str):
            raise DataError("ticker without a string 'product_id'")
        symbol = _symbol_of(product)
        if symbol is None:
            return None
        sequence = _sequence(obj.get("sequence"))
        update = _update(
            symbol,
            decimal_field(obj, "price", positive=True),
            iso_time(obj, "time"),
            decimal_field(obj, "volume_24h", optional=True),
            decimal_field(obj, "open_24h", optional=True),
        )
        return update, sequence

    @staticmethod
    def subscribe_message(
        symbols: list[str], kind: str = "subscribe"
    ) -> dict[str, Any]:
        """The (un)subscribe frame for canonical ``symbols`` on ticker + heartbeat."""
        products = [to_exchange_symbol(PriceFeedProvider.COINBASE, s) for s in symbols]
        return {"type": kind, "product_ids": products, "channels": list(CHANNELS)}

    # ordering ---------------------------------------------------------------------
    def accept_sequence(self, symbol: str, sequence: int, when: datetime) -> bool:
        """Whether a ticker is newer than the last accepted one for ``symbol``;
        a stale one is counted in ``out_of_order``."""
        last = self._last_seq.get(symbol)
        if last is not None and sequence <= last[0]:
            if symbol in self._reconnected and when > last[1]:
                logger.warning(
                    "coinbase %s: sequence reset %s -> %s after reconnect",
                    symbol,
                    last[0],
                    sequence,
                )
            else:
                self.out_of_order += 1
                return False
        self._reconnected.discard(symbol)
        self._last_seq[symbol] = (sequence, when)
        return True

    def _subscriptions(self) -> list[dict[str, Any]]:
        self._reconnected = set(self.symbols)
        return [self.subscribe_message(self.symbols)] if self.symbols else []

    def add_symbol(self, symbol: str) -> None:
        """Track ``symbol``; while connected, subscribe its product at once."""
        to_exchange_symbol(PriceFeedProvider.COINBASE, symbol)
        if symbol not in self.symbols:
            super().add_symbol(symbol)
            self._send(self.subscribe_message([symbol]))

    def remove_symbol(self, symbol: str) -> None:
        """Stop tracking ``symbol``; while connected, unsubscribe its product."""
        if symbol in self.symbols:
            super().remove_symbol(symbol)
            self.confirmed.discard(symbol)
            self._send(self.subscribe_message([symbol], "unsubscribe"))

    # frames -----------------------------------------------------------------------
    async def _on_frame(self, obj: Any) -> None:
        try:
            parsed = self.parse_ticker(obj)
        except DataError as exc:
            self.errors += 1
            logger.warning("coinbase: bad frame: %s", exc)
            if isinstance(obj, dict) and obj.get("type") == "error":
                self._on_error(obj)
            return
        if parsed is None:
            if type(obj) is dict:  # a TickerFrame here is a product we do not read
                self._on_control(obj)
            return
        update, sequence = parsed
        if not self.tracks(update.symbol):
            return
        if self.accept_sequence(update.symbol, sequence, update.timestamp):
            await self.dispatch(update)

    def _on_control(self, obj: dict[str, Any]) -> None:
        kind = obj.get("type")
        if kind == "heartbeat":
            symbol = from_exchange_symbol(
                PriceFeedProvider.COINBASE, obj.get("product_id")
            )
            if symbol in self.symbols:
                self.mark_alive(symbol)
        elif kind == "subscriptions":
            self._on_subscriptions(obj)

    def _on_error(self, obj: dict[str, Any]) -> None:
        """Coinbase refuses a whole subscribe for one unknown product: report it
        and subscribe the remaining products again."""
        reason = str(obj.get("reason") or "")
        refused = []
        for product in _PRODUCT_IN_REASON.findall(reason):
            symbol = from_exchange_symbol(PriceFeedProvider.COINBASE, product)
            if symbol in self.symbols:
                refused.append(symbol)
                self.mark_unsupported(symbol, reason)
        if refused and self.symbols:
            self._send(self.subscribe_message(self.symbols))

    def _on_subscriptions(self, obj: dict[str, Any]) -> None:
        """Record what the server confirmed and report products it refused."""
        confirmed: set[str] = set()
        for channel in obj.get("channels") or []:
            if isinstance(channel, dict) and channel.get("name") == "ticker":
                for product in channel.get("product_ids") or []:
                    symbol = from_exchange_symbol(PriceFeedProvider.COINBASE, product)
                    if symbol is not None:
                        confirmed.add(symbol)
        self.confirmed = confirmed
        missing = sorted(set(self.symbols) - confirmed)
        if missing:
            logger.warning("coinbase: ticker not confirmed for %s", missing)

    def status_info(self) -> dict[str, Any]:
        info = super().status_info()
        info["confirmed"] = sorted(self.confirmed)
        return info
