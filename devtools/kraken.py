"""FakeKraken: Kraken Spot WebSocket v2 (``wss://ws.kraken.com/v2``), ticker channel.

Speaks the v2 protocol as documented: a ``status`` message on connect; requests
``{"method": "subscribe", "params": {"channel": "ticker", "symbol": ["BTC/USD"],
"snapshot": true}, "req_id": 42}`` answered with one ack per symbol (or a
``"success": false`` error naming it); a ``snapshot`` after each ack unless
``snapshot`` is false; ``update`` messages; ``heartbeat`` once a second without
other traffic once subscribed; ``ping`` answered with ``pong``; ``unsubscribe``.

Unlike Binance and Coinbase, v2 sends prices and quantities as JSON *numbers*,
e.g. ``"last":97123.456789012345``. A client that decodes them as floats loses
digits, so this fake writes every number from its Decimal text, never through a
float, and its prices carry more digits than a double holds.
"""

from __future__ import annotations

import asyncio
import json
import time
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from devtools.base import FakeExchange, _Book, _Client

__all__ = ["FakeKraken", "exact_json"]

#: Added to the majors' levels so prices have 12 decimals: 67250.456789012345.
_DIGITS = Decimal("0.356789012345")
_CENTS = Decimal("0.01")
_QTY = Decimal("0.00000001")
_VERSION = "2.0.10"


def _iso_now() -> str:
    """RFC 3339 with microseconds, like Kraken's ``time_in``/``time_out``."""
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def exact_json(value: Any) -> str:
    """Compact JSON in which a Decimal is a number written digit for digit.

    ``json.dumps`` can only write a Decimal as a string or through float; Kraken
    sends numbers, so the fake builds the text itself.
    """
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise ValueError(f"JSON has no number for {value}")
        return format(value, "f")
    if isinstance(value, dict):
        items = (f"{json.dumps(str(k))}:{exact_json(v)}" for k, v in value.items())
        return "{" + ",".join(items) + "}"
    if isinstance(value, list | tuple):
        return "[" + ",".join(exact_json(v) for v in value) + "]"
    if isinstance(value, float):
        raise TypeError("floats are not written: pass a Decimal")
    return json.dumps(value)


class FakeKraken(FakeExchange):
    """Kraken Spot v2 public endpoint ``/v2``: status, ticker, heartbeat, ping."""

    name = "fake-kraken"
    PATH = "/v2"
    CHANNELS = ("ticker",)
    QUOTE = "USD"

    def __init__(
        self,
        symbols: list[str] | None = None,
        *,
        heartbeat_interval: float = 1.0,
        **kwargs: Any,
    ) -> None:
        super().__init__(symbols, **kwargs)
        self.heartbeat_interval = heartbeat_interval
        self.subscribe_requests = 0
        self._last_sent: dict[_Client, float] = {}

    # protocol surface ----------------------------------------------------------------
    @property
    def endpoint(self) -> str:
        return f"{self.url}{self.PATH}"

    @property
    def subscriptions(self) -> list[list[str]]:
        """Ticker pairs of each connected socket, in connection order."""
        return [list(c.channels.get("ticker", [])) for c in self._clients]

    def _path_ok(self, path: str) -> bool:
        return path == self.PATH

    def start_price(self, symbol: str) -> Decimal:
        return super().start_price(symbol) + _DIGITS

    @staticmethod
    def encode(frame: Any) -> str:
        return exact_json(frame)

    async def _send_text(self, client: _Client, text: str) -> None:
        # Heartbeats are due only after a second without other traffic.
        self._last_sent[client] = time.monotonic()
        await super()._send_text(client, text)

    # connection ----------------------------------------------------------------------
    async def _serve(self, client: _Client) -> None:
        await self._send(client, self.status_frame())
        heartbeats = asyncio.create_task(self._heartbeats(client))
        try:
            async for raw in client.ws:
                await self._on_message(client, raw)
        finally:
            heartbeats.cancel()
            await asyncio.gather(heartbeats, return_exceptions=True)
            self._last_sent.pop(client, None)

    def status_frame(self) -> dict[str, Any]:
        system = {
            "api_version": "v2",
            "connection_id": self.random.randrange(10**9, 2**63),
            "system": "online",
            "version": _VERSION,
        }
        return {"channel": "status", "type": "update", "data": [system]}

    async def _heartbeats(self, client: _Client) -> None:
        """Kraken sends heartbeats only to sockets with a subscription."""
        await client.subscribed.wait()
        while True:
            await asyncio.sleep(self.heartbeat_interval / 4)
            idle = time.monotonic() - self._last_sent.get(client, 0.0)
            if idle >= self.heartbeat_interval:
                await self._send(client, {"channel": "heartbeat"})

    # requests ------------------------------------------------------------------------
    async def _on_message(self, client: _Client, raw: str | bytes) -> None:
        time_in = _iso_now()
        try:
            msg = json.loads(raw, parse_float=Decimal)
        except ValueError:
            await self._reply(client, {}, time_in, error="Malformed request")
            return
        self.received.append(msg)
        if not isinstance(msg, dict):
            await self._reply(client, {}, time_in, error="Malformed request")
            return
        method = msg.get("method")
        if method == "ping":
            await self._reply(client, msg, time_in, pong=True)
        elif method in ("subscribe", "unsubscribe"):
            await self._subscription(client, msg, time_in)
        else:
            await self._reply(client, msg, time_in, error="Method not found")

    async def _subscription(
        self, client: _Client, msg: dict[str, Any], time_in: str
    ) -> None:
        params = msg.get("params")
        problem = self._bad_params(params)
        if problem is not None:
            await self._reply(client, msg, time_in, error=problem)
            return
        assert isinstance(params, dict)
        if msg["method"] == "subscribe":
            self.subscribe_requests += 1
        for pair in params["symbol"]:
            await self._one_pair(client, msg, params, pair, time_in)

    def _bad_params(self, params: Any) -> str | None:
        """Why a (un)subscribe is refused as a whole, or None."""
        if not isinstance(params, dict):
            return "Missing params"
        channel = params.get("channel")
        if channel not in self.CHANNELS:
            return f"Channel {channel} not found"
        symbols = params.get("symbol")
        if not isinstance(symbols, list) or not symbols:
            return "Missing field: symbol"
        if not all(isinstance(s, str) for s in symbols):
            return "Invalid field: symbol"
        if not isinstance(params.get("snapshot", True), bool):
            return "Invalid field: snapshot"
        if params.get("event_trigger", "trades") not in ("trades", "bbo"):
            return "Invalid field: event_trigger"
        return None

    async def _one_pair(
        self,
        client: _Client,
        msg: dict[str, Any],
        params: dict[str, Any],
        pair: str,
        time_in: str,
    ) -> None:
        """Kraken acknowledges (or refuses) each pair of a request on its own."""
        base = self._base(pair)
        current = client.channels.setdefault("ticker", [])
        error = None
        if base is None:
            error = f"Currency pair not supported {pair}"
        elif msg["method"] == "subscribe" and pair in current:
            error = "Already subscribed"
        elif msg["method"] == "unsubscribe" and pair not in current:
            error = "Subscription Not Found"
        if error is not None:
            await self._reply(client, msg, time_in, error=error, symbol=pair)
            return
        assert base is not None
        result: dict[str, Any] = {"channel": "ticker", "symbol": pair}
        if msg["method"] == "unsubscribe":
            current.remove(pair)
            await self._reply(client, msg, time_in, result=result)
            return
        snapshot = params.get("snapshot", True)
        trigger = params.get("event_trigger", "trades")
        result = {"channel": "ticker", "event_trigger": trigger, **result}
        result["snapshot"] = snapshot
        current.append(pair)
        client.subscribed.set()
        await self._reply(client, msg, time_in, result=dict(sorted(result.items())))
        if snapshot:
            data = self.ticker_data(pair, self._book(base))
            await self._send(
                client, {"channel": "ticker", "type": "snapshot", "data": [data]}
            )

    def _base(self, pair: str) -> str | None:
        """``"BTC/USD"`` -> ``"BTC"`` when listed; v2 writes BTC, never XBT."""
        base, slash, quote = pair.partition("/")
        if slash and quote == self.QUOTE and base in self.listed:
            return base
        return None

    async def _reply(
        self,
        client: _Client,
        msg: dict[str, Any],
        time_in: str,
        *,
        result: dict[str, Any] | None = None,
        error: str | None = None,
        symbol: str | None = None,
        pong: bool = False,
    ) -> None:
        """A method response: the fields in Kraken's order, ``req_id`` echoed."""
        method = msg.get("method")
        frame: dict[str, Any] = {
            "method": "pong" if pong else method if isinstance(method, str) else ""
        }
        if pong:
            frame["req_id"] = msg.get("req_id")
        elif error is not None:
            frame["error"] = error
            frame["success"] = False
            if symbol is not None:
                frame["symbol"] = symbol
        else:
            frame["result"] = result
            frame["success"] = True
        frame["time_in"] = time_in
        frame["time_out"] = _iso_now()
        if not pong:
            frame["req_id"] = msg.get("req_id")
        if frame["req_id"] is None:
            del frame["req_id"]
        await self._send(client, frame)

    # prices --------------------------------------------------------------------------
    def ticker_data(self, pair: str, book: _Book) -> dict[str, Any]:
        """One ``data`` entry with the field set and order of the v2 docs."""
        # A tenth of a basis point each side: under a dollar on BTC.
        spread = book.last / 10**5
        change = book.last - book.open
        return {
            "symbol": pair,
            "bid": (book.last - spread).quantize(book.last),
            "bid_qty": Decimal("0.51234567"),
            "ask": (book.last + spread).quantize(book.last),
            "ask_qty": Decimal("1.25"),
            "last": book.last,
            "volume": book.volume.quantize(_QTY),
            "vwap": (book.high + book.low) / 2,
            "low": book.low,
            "high": book.high,
            "change": change,
            "change_pct": (change * 100 / book.open).quantize(_CENTS),
            "timestamp": _iso_now(),
        }

    async def emit(
        self,
        symbol: str,
        *,
        price: Decimal | None = None,
        volume: Decimal | None = None,
        open_price: Decimal | None = None,
    ) -> dict[str, Any]:
        """Push a ticker ``update`` for ``symbol`` to every socket subscribed to it."""
        book = self._update_book(symbol, price, volume)
        if open_price is not None:
            book.open = open_price
        pair = f"{symbol}/{self.QUOTE}"
        frame = {
            "channel": "ticker",
            "type": "update",
            "data": [self.ticker_data(pair, book)],
        }
        text = self.encode(frame)
        for client in list(self._clients):
            if pair in client.channels.get("ticker", []):
                await self._send_text(client, text)
        return frame
