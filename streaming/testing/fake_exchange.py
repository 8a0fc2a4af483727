"""Fake Binance and Coinbase WebSocket servers on 127.0.0.1 speaking their protocols.

They follow the documented wire formats closely enough that the real feeds cannot
tell them from the exchanges, and add knobs tests need: push a price, drop every
socket, go silent (no frames, no pongs), stop and restart on the same port.
Run one for a demo with::

    python -m streaming.testing.fake_exchange --exchange binance --port 9443 \
        --symbols BTC,ETH --rate 1
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import random
import time
from collections import deque
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from http import HTTPStatus
from typing import Any
from urllib.parse import parse_qs, urlsplit

from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.exceptions import ConnectionClosed
from websockets.http11 import Request, Response

__all__ = ["FakeExchange", "FakeBinance", "FakeCoinbase", "START_PRICES", "main"]

logger = logging.getLogger(__name__)

#: Realistic starting prices for the automatic ticker mode.
START_PRICES: dict[str, Decimal] = {
    "BTC": Decimal("67250.10"),
    "ETH": Decimal("3480.55"),
    "SOL": Decimal("152.31"),
    "ADA": Decimal("0.4512"),
    "XRP": Decimal("0.5234"),
    "DOGE": Decimal("0.1234"),
    "DOT": Decimal("6.812"),
    "LTC": Decimal("81.45"),
    "LINK": Decimal("14.62"),
    "AVAX": Decimal("35.27"),
    "BNB": Decimal("580.40"),
}
EIGHT = Decimal("0.00000001")


@dataclass(eq=False)
class _Client:
    """Server-side state of one connected socket."""

    ws: ServerConnection
    path: str
    streams: list[str] = field(default_factory=list)
    combined: bool = True
    times: deque[float] = field(default_factory=deque)
    channels: dict[str, list[str]] = field(default_factory=dict)
    subscribed: asyncio.Event = field(default_factory=asyncio.Event)


@dataclass
class _Book:
    """Per-symbol 24 h statistics the fake keeps so frames are self-consistent."""

    open: Decimal
    last: Decimal
    high: Decimal
    low: Decimal
    volume: Decimal = Decimal("1000")
    trade_id: int = 1000


class FakeExchange:
    """Shared lifecycle of the fakes: start/stop on a fixed port, drop, silence."""

    name = "fake"

    def __init__(
        self,
        symbols: list[str] | None = None,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        ping_interval: float | None = None,
        seed: int | None = None,
    ) -> None:
        #: Base assets the exchange lists (others are "unknown" symbols).
        self.listed: set[str] = set(symbols or START_PRICES)
        self.host = host
        self.port = port
        self.ping_interval = ping_interval
        self.random = random.Random(seed)
        self.received: list[Any] = []
        self.connections_total = 0
        self.disconnected_for_rate = 0
        self._clients: list[_Client] = []
        self._books: dict[str, _Book] = {}
        self._server: Server | None = None
        self._silent = False
        self._ticker: asyncio.Task[None] | None = None

    # lifecycle ------------------------------------------------------------------
    async def start(self) -> None:
        """Listen (again) on ``port``; the first start with port 0 picks one."""
        if self._server is not None:
            return
        self._server = await serve(
            self._handle,
            self.host,
            self.port,
            process_request=self._process_request,
            ping_interval=self.ping_interval,
            close_timeout=1.0,
        )
        self.port = self._server.sockets[0].getsockname()[1]
        logger.info("%s listening on %s", self.name, self.url)

    async def stop(self) -> None:
        """Kill the server like a crashed process; ``start()`` reuses the port."""
        server, self._server = self._server, None
        if server is None:
            return
        await self.drop()
        server.close(close_connections=False)
        await server.wait_closed()

    async def close(self) -> None:
        """Stop ticking and the server (end of a test or demo)."""
        self.stop_ticking()
        if self._ticker is not None:
            await asyncio.gather(self._ticker, return_exceptions=True)
            self._ticker = None
        await self.stop()

    async def __aenter__(self) -> FakeExchange:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    @property
    def url(self) -> str:
        """Base URL of the server, e.g. ``ws://127.0.0.1:9443``."""
        return f"ws://{self.host}:{self.port}"

    @property
    def clients(self) -> int:
        """Sockets connected right now."""
        return len(self._clients)

    async def drop(self) -> None:
        """Cut every socket without a close frame, like a network failure."""
        for client in list(self._clients):
            client.ws.transport.abort()
        for _ in range(100):
            if not self._clients:
                return
            await asyncio.sleep(0.01)

    def silent(self, on: bool = True) -> None:
        """Stop (or resume) sending frames and answering pings; sockets stay open."""
        self._silent = on
        for client in self._clients:
            transport = client.ws.transport
            if on:
                transport.pause_reading()
            elif not transport.is_closing():
                transport.resume_reading()

    @property
    def is_silent(self) -> bool:
        return self._silent

    async def wait_clients(self, count: int, timeout: float = 5.0) -> None:
        """Wait until exactly ``count`` sockets are connected."""
        async with asyncio.timeout(timeout):
            while self.clients != count:
                await asyncio.sleep(0.01)

    # automatic prices -----------------------------------------------------------
    def start_ticking(self, symbols: list[str], rate_hz: float) -> None:
        """Emit a random-walk price for each symbol ``rate_hz`` times a second."""
        self.stop_ticking()
        self._ticker = asyncio.create_task(self._tick(list(symbols), rate_hz))

    def stop_ticking(self) -> None:
        if self._ticker is not None:
            self._ticker.cancel()

    async def _tick(self, symbols: list[str], rate_hz: float) -> None:
        while True:
            for symbol in symbols:
                book = self._book(symbol)
                step = Decimal(str(round(self.random.gauss(0, 0.0005), 6)))
                price = (book.last * (1 + step)).quantize(book.last)
                if price > 0:
                    await self.emit(symbol, price=price)
            await asyncio.sleep(1.0 / rate_hz)

    def _book(self, symbol: str, price: Decimal | None = None) -> _Book:
        book = self._books.get(symbol)
        if book is None:
            start = price or START_PRICES.get(symbol, Decimal("100.00"))
            book = _Book(open=start, last=start, high=start, low=start)
            self._books[symbol] = book
        return book

    def _update_book(
        self, symbol: str, price: Decimal | None, volume: Decimal | None
    ) -> _Book:
        book = self._book(symbol, price)
        if price is not None:
            book.last = price
            book.high = max(book.high, price)
            book.low = min(book.low, price)
        book.volume = volume if volume is not None else book.volume + Decimal("0.5")
        book.trade_id += 1
        return book

    async def emit(self, symbol: str, **kwargs: Any) -> dict[str, Any]:
        raise NotImplementedError

    async def broadcast(self, frame: Any) -> None:
        """Send any frame (an error, garbage) to every socket, as text JSON."""
        for client in list(self._clients):
            await self._send(client, frame)

    # plumbing -------------------------------------------------------------------
    def _process_request(
        self, ws: ServerConnection, request: Request
    ) -> Response | None:
        path = urlsplit(request.path).path
        if not self._path_ok(path):
            return ws.respond(HTTPStatus.NOT_FOUND, "Not Found\n")
        return None

    def _path_ok(self, path: str) -> bool:
        raise NotImplementedError

    async def _handle(self, ws: ServerConnection) -> None:
        assert ws.request is not None
        client = self._new_client(ws, ws.request.path)
        self._clients.append(client)
        self.connections_total += 1
        if self._silent:
            ws.transport.pause_reading()
        try:
            await self._serve(client)
        except ConnectionClosed:
            pass
        finally:
            self._clients.remove(client)

    def _new_client(self, ws: ServerConnection, path: str) -> _Client:
        return _Client(ws, path)

    async def _serve(self, client: _Client) -> None:
        raise NotImplementedError

    async def _send(self, client: _Client, frame: dict[str, Any]) -> None:
        if self._silent:
            return
        with contextlib.suppress(ConnectionClosed):
            await client.ws.send(json.dumps(frame, default=str, separators=(",", ":")))


def _now_ms() -> int:
    return time.time_ns() // 1_000_000


def _eight(value: Decimal) -> str:
    """Binance renders amounts with eight decimals: ``"9338.96000000"``."""
    return str(value.quantize(EIGHT))


class FakeBinance(FakeExchange):
    """Binance spot market streams: ``/stream?streams=...`` (combined) and ``/ws``."""

    name = "fake-binance"
    MAX_STREAMS = 1024
    MAX_MESSAGES_PER_SECOND = 5

    def __init__(self, symbols: list[str] | None = None, **kwargs: Any) -> None:
        super().__init__(symbols, **kwargs)
        self.subscribe_requests = 0
        self.unsubscribe_requests = 0

    @property
    def subscriptions(self) -> list[list[str]]:
        """Streams of each connected socket, in connection order."""
        return [list(c.streams) for c in self._clients]

    def _path_ok(self, path: str) -> bool:
        return path in ("/stream", "/ws") or path.startswith("/ws/")

    def _valid_stream(self, stream: Any) -> bool:
        if not isinstance(stream, str) or not stream.endswith("usdt@ticker"):
            return False
        return stream.removesuffix("usdt@ticker").upper() in self.listed

    def _new_client(self, ws: ServerConnection, path: str) -> _Client:
        parts = urlsplit(path)
        if parts.path == "/stream":
            query = parse_qs(parts.query).get("streams", [""])[0]
            streams = [s for s in query.split("/") if s]
            combined = True
        else:
            streams = [s for s in parts.path.removeprefix("/ws").split("/") if s]
            combined = False
        # Like Binance, unknown streams in the URL are accepted and stay silent.
        streams = [s for s in streams if self._valid_stream(s)][: self.MAX_STREAMS]
        return _Client(ws, path, streams=streams, combined=combined)

    async def _serve(self, client: _Client) -> None:
        async for raw in client.ws:
            if self._over_rate(client):
                self.disconnected_for_rate += 1
                logger.info("%s: client over 5 messages/s, disconnecting", self.name)
                await client.ws.close(1008, "Too many requests")
                return
            await self._on_message(client, raw)

    def _over_rate(self, client: _Client) -> bool:
        now = time.monotonic()
        client.times.append(now)
        while client.times and client.times[0] <= now - 1.0:
            client.times.popleft()
        return len(client.times) > self.MAX_MESSAGES_PER_SECOND

    async def _on_message(self, client: _Client, raw: str | bytes) -> None:
        try:
            msg = json.loads(raw)
        except ValueError:
            await self._send(client, {"code": 3, "msg": "Invalid JSON: bad frame"})
            return
        self.received.append(msg)
        reply = self._answer(client, msg)
        await self._send(client, reply)

    def _answer(self, client: _Client, msg: Any) -> dict[str, Any]:
        if not isinstance(msg, dict):
            return {"code": 2, "msg": "Invalid request: request must be an object"}
        rid = msg.get("id")
        if isinstance(rid, bool) or not isinstance(rid, int) or rid < 0:
            return {
                "code": 2,
                "msg": "Invalid request: request ID must be an unsigned integer",
            }
        method, params = msg.get("method"), msg.get("params", [])
        if method == "LIST_SUBSCRIPTIONS":
            return {"result": list(client.streams), "id": rid}
        if method not in ("SUBSCRIBE", "UNSUBSCRIBE"):
            return {
                "code": 2,
                "msg": f"Invalid request: unknown method {method}",
                "id": rid,
            }
        if not isinstance(params, list):
            return {
                "code": 2,
                "msg": "Invalid request: params must be a list",
                "id": rid,
            }
        if method == "UNSUBSCRIBE":
            self.unsubscribe_requests += 1
            client.streams = [s for s in client.streams if s not in params]
            return {"result": None, "id": rid}
        self.subscribe_requests += 1
        bad = [p for p in params if not self._valid_stream(p)]
        if bad:
            return {
                "code": 2,
                "msg": f"Invalid request: unknown stream {bad[0]}",
                "id": rid,
            }
        new = [p for p in dict.fromkeys(params) if p not in client.streams]
        if len(client.streams) + len(new) > self.MAX_STREAMS:
            return {
                "code": 2,
                "msg": f"Invalid request: more than {self.MAX_STREAMS} streams",
                "id": rid,
            }
        client.streams.extend(new)
        return {"result": None, "id": rid}

    def ticker_data(self, symbol: str, book: _Book) -> dict[str, Any]:
        """A ``24hrTicker`` payload with the exact field set Binance sends."""
        change = book.last - book.open
        now = _now_ms()
        return {
            "e": "24hrTicker",
            "E": now,
            "s": f"{symbol}USDT",
            "p": _eight(change),
            "P": str((change * 100 / book.open).quantize(Decimal("0.001"))),
            "w": _eight((book.high + book.low) / 2),
            "x": _eight(book.open),
            "c": _eight(book.last),
            "Q": "0.01000000",
            "b": _eight(book.last),
            "B": "1.00000000",
            "a": _eight(book.last),
            "A": "1.00000000",
            "o": _eight(book.open),
            "h": _eight(book.high),
            "l": _eight(book.low),
            "v": _eight(book.volume),
            "q": _eight(book.volume * book.last),
            "O": now - 86_400_000,
            "C": now,
            "F": book.trade_id - 500,
            "L": book.trade_id,
            "n": 501,
        }

    async def emit(
        self,
        symbol: str,
        *,
        price: Decimal | None = None,
        volume: Decimal | None = None,
        open_price: Decimal | None = None,
    ) -> dict[str, Any]:
        """Push a ``24hrTicker`` for ``symbol`` to every socket subscribed to it."""
        book = self._update_book(symbol, price, volume)
        if open_price is not None:
            book.open = open_price
        data = self.ticker_data(symbol, book)
        stream = f"{symbol.lower()}usdt@ticker"
        for client in list(self._clients):
            if stream in client.streams:
                frame = {"stream": stream, "data": data} if client.combined else data
                await self._send(client, frame)
        return data

    async def server_shutdown(self, close_after: float | None = None) -> None:
        """Announce maintenance (``serverShutdown``); optionally cut sockets later."""
        data = {"e": "serverShutdown", "E": _now_ms()}
        for client in list(self._clients):
            frame = (
                {"stream": "!serverShutdown", "data": data} if client.combined else data
            )
            await self._send(client, frame)
        if close_after is not None:
            await asyncio.sleep(close_after)
            await self.drop()


def _iso_now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


class FakeCoinbase(FakeExchange):
    """Coinbase Exchange feed: subscribe within 5 s, ``ticker`` and ``heartbeat``."""

    name = "fake-coinbase"
    CHANNELS = ("ticker", "heartbeat")

    def __init__(
        self,
        symbols: list[str] | None = None,
        *,
        heartbeat_interval: float = 1.0,
        subscribe_timeout: float = 5.0,
        **kwargs: Any,
    ) -> None:
        super().__init__(symbols, **kwargs)
        self.heartbeat_interval = heartbeat_interval
        self.subscribe_timeout = subscribe_timeout
        self.subscribe_requests = 0
        self.closed_for_idle = 0
        #: Last sequence and ticker frame sent per product (server-wide, like Coinbase).
        self.sequences: dict[str, int] = {}
        self.last_frames: dict[str, dict[str, Any]] = {}

    @property
    def subscriptions(self) -> list[dict[str, list[str]]]:
        """Channels -> products of each connected socket, in connection order."""
        return [{k: list(v) for k, v in c.channels.items()} for c in self._clients]

    def _path_ok(self, path: str) -> bool:
        return path in ("", "/")

    def _next_sequence(self, product: str) -> int:
        """Increasing per product, skipping numbers now and then like Coinbase."""
        last = self.sequences.get(product, self.random.randrange(10**8, 10**9))
        seq = last + self.random.choice((1, 1, 1, 2, 5))
        self.sequences[product] = seq
        return seq

    async def _serve(self, client: _Client) -> None:
        tasks = [
            asyncio.create_task(self._idle_guard(client)),
            asyncio.create_task(self._heartbeats(client)),
        ]
        try:
            async for raw in client.ws:
                await self._on_message(client, raw)
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

    async def _idle_guard(self, client: _Client) -> None:
        """Coinbase closes a socket that has no subscription 5 s after opening."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(client.subscribed.wait(), self.subscribe_timeout)
            return
        if not self._silent:
            self.closed_for_idle += 1
            await client.ws.close(1008, "subscribe within 5 seconds")

    async def _heartbeats(self, client: _Client) -> None:
        while True:
            await asyncio.sleep(self.heartbeat_interval)
            for product in list(client.channels.get("heartbeat", [])):
                frame = {
                    "type": "heartbeat",
                    "sequence": self.sequences.get(product, 0),
                    "last_trade_id": self._book(product[:-4]).trade_id,
                    "product_id": product,
                    "time": _iso_now(),
                }
                await self._send(client, frame)

    async def _on_message(self, client: _Client, raw: str | bytes) -> None:
        try:
            msg = json.loads(raw)
        except ValueError:
            await self._error(client, "Malformed JSON", "")
            return
        self.received.append(msg)
        kind = msg.get("type") if isinstance(msg, dict) else None
        if kind not in ("subscribe", "unsubscribe"):
            await self._error(
                client,
                "Failed to subscribe",
                "Type has to be either subscribe or unsubscribe",
            )
            return
        self.subscribe_requests += kind == "subscribe"
        wanted = self._requested(msg)
        if isinstance(wanted, str):
            await self._error(client, "Failed to subscribe", wanted)
            return
        for channel, products in wanted.items():
            current = client.channels.setdefault(channel, [])
            if kind == "subscribe":
                current.extend(p for p in products if p not in current)
            else:
                current[:] = [p for p in current if p not in products]
        client.channels = {k: v for k, v in client.channels.items() if v}
        if client.channels:
            client.subscribed.set()
        await self._send(client, self.subscriptions_frame(client))

    def _requested(self, msg: dict[str, Any]) -> dict[str, list[str]] | str:
        """Channel -> products asked for, or the reason the request is refused."""
        top = msg.get("product_ids") or []
        wanted: dict[str, list[str]] = {}
        for channel in msg.get("channels") or []:
            if isinstance(channel, dict):
                name, products = channel.get("name"), channel.get("product_ids") or top
            else:
                name, products = channel, top
            if name not in self.CHANNELS:
                return f"{name} is not a valid channel"
            for product in products:
                base, _, quote = str(product).rpartition("-")
                if quote != "USD" or base not in self.listed:
                    return f"{product} is not a valid product"
            wanted[name] = list(products)
        if not wanted:
            return "No channels provided"
        return wanted

    async def _error(self, client: _Client, message: str, reason: str) -> None:
        await self._send(
            client, {"type": "error", "message": message, "reason": reason}
        )

    @staticmethod
    def subscriptions_frame(client: _Client) -> dict[str, Any]:
        channels = [
            {"name": k, "product_ids": list(v)} for k, v in client.channels.items()
        ]
        return {"type": "subscriptions", "channels": channels}

    def ticker_frame(self, product: str, book: _Book, sequence: int) -> dict[str, Any]:
        """A ``ticker`` frame with the exact field set of the 2022 capture."""
        return {
            "type": "ticker",
            "sequence": sequence,
            "product_id": product,
            "price": str(book.last),
            "open_24h": str(book.open),
            "volume_24h": str(book.volume.quantize(EIGHT)),
            "low_24h": str(book.low),
            "high_24h": str(book.high),
            "volume_30d": str((book.volume * 30).quantize(EIGHT)),
            "best_bid": str(book.last),
            "best_bid_size": "0.50000000",
            "best_ask": str(book.last),
            "best_ask_size": "0.50000000",
            "side": self.random.choice(("buy", "sell")),
            "time": _iso_now(),
            "trade_id": book.trade_id,
            "last_size": "0.01",
        }

    async def emit(
        self,
        symbol: str,
        *,
        price: Decimal | None = None,
        volume: Decimal | None = None,
        open_price: Decimal | None = None,
        sequence: int | None = None,
    ) -> dict[str, Any]:
        """Push a ``ticker`` for ``symbol`` to every socket subscribed to it."""
        book = self._update_book(symbol, price, volume)
        if open_price is not None:
            book.open = open_price
        product = f"{symbol}-USD"
        if sequence is None:
            sequence = self._next_sequence(product)
        else:
            self.sequences[product] = max(sequence, self.sequences.get(product, 0))
        frame = self.ticker_frame(product, book, sequence)
        self.last_frames[product] = frame
        await self._broadcast(product, frame)
        return frame

    async def emit_out_of_order(
        self, symbol: str, *, price: Decimal | None = None, back: int = 1
    ) -> dict[str, Any]:
        """Re-send the last ticker with an older sequence (and optionally a price)."""
        product = f"{symbol}-USD"
        frame = dict(self.last_frames[product])
        frame["sequence"] = frame["sequence"] - back
        if price is not None:
            frame["price"] = str(price)
        await self._broadcast(product, frame)
        return frame

    async def _broadcast(self, product: str, frame: dict[str, Any]) -> None:
        for client in list(self._clients):
            if product in client.channels.get("ticker", []):
                await self._send(client, frame)


async def _run(args: argparse.Namespace) -> None:
    symbols = [s.strip().upper() for s in args.symbols.split(",") if s.strip()]
    cls = FakeBinance if args.exchange == "binance" else FakeCoinbase
    fake = cls(host=args.host, port=args.port, seed=args.seed)
    async with fake:
        fake.start_ticking(symbols, args.rate)
        setting = "BINANCE_WS_URL" if args.exchange == "binance" else "COINBASE_WS_URL"
        print(f"{fake.name} on {fake.url}  ({setting}={fake.url})", flush=True)
        await asyncio.Event().wait()


def main(argv: list[str] | None = None) -> None:
    """Run one fake exchange until Ctrl-C."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--exchange", choices=("binance", "coinbase"), required=True)
    parser.add_argument("--host", default="127.0.0.1", help="interface to bind")
    parser.add_argument("--port", type=int, default=0, help="port (0 picks one)")
    parser.add_argument("--symbols", default="BTC,ETH", help="comma-separated bases")
    parser.add_argument("--rate", type=float, default=1.0, help="ticks per second")
    parser.add_argument("--seed", type=int, default=None, help="random-walk seed")
    args = parser.parse_args(argv)
    if args.rate <= 0:
        parser.error("--rate must be positive")
    logging.basicConfig(level=logging.INFO)
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_run(args))


if __name__ == "__main__":
    main()
