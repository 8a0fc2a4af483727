"""Shared lifecycle of the fake exchanges: fixed port, drop, silence, ticking.

Each exchange module (``binance``, ``coinbase``, ``kraken``) adds only its wire
protocol on top, so every fake gets the same test knobs and the same bounded
shutdown.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import random
from collections import deque
from dataclasses import dataclass, field
from decimal import Decimal
from http import HTTPStatus
from typing import Any
from urllib.parse import urlsplit

from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.exceptions import ConnectionClosed
from websockets.http11 import Request, Response

from devtools.control import CONTROL_PATH, TickControl

__all__ = ["FakeExchange", "START_PRICES", "EIGHT", "HOST"]

logger = logging.getLogger(__name__)

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
#: The fakes never listen beyond loopback: they are for tests, demos and benches.
HOST = "127.0.0.1"


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
        port: int = 0,
        ping_interval: float | None = None,
        seed: int | None = None,
        control_symbols: list[str] | None = None,
        compression: str | None = "deflate",
    ) -> None:
        #: Base assets the exchange lists (others are "unknown" symbols).
        self.listed: set[str] = set(symbols or START_PRICES)
        self.host = HOST
        self.port = port
        self.ping_interval = ping_interval
        self.compression = compression
        #: ``/control`` endpoint for benchmarks, ticking these symbols on command.
        self.control = (
            TickControl(self, control_symbols) if control_symbols is not None else None
        )
        self.random = random.Random(seed)
        self.received: list[Any] = []
        self.connections_total = 0
        self.disconnected_for_rate = 0
        self._clients: list[_Client] = []
        self._control_sockets: set[ServerConnection] = set()
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
            compression=self.compression,
            close_timeout=1.0,
        )
        self.port = self._server.sockets[0].getsockname()[1]
        logger.info("%s listening on %s", self.name, self.endpoint)

    async def stop(self) -> None:
        """Kill the server like a crashed process; ``start()`` reuses the port."""
        server, self._server = self._server, None
        if server is None:
            return
        for ws in list(self._control_sockets):
            ws.transport.abort()
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
    def endpoint(self) -> str:
        """The URL a feed connects to (the exchange's path, where it has one)."""
        return self.url

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
        # Runs until stop_ticking()/close() cancels it; each round is one sleep.
        while True:
            for symbol in symbols:
                book = self._book(symbol)
                # Integer steps keep the walk in Decimal: +-0.05 % per tick.
                step = Decimal(self.random.randint(-500, 500)) / 1_000_000
                price = (book.last * (1 + step)).quantize(book.last)
                if price > 0:
                    await self.emit(symbol, price=price)
            await asyncio.sleep(1.0 / rate_hz)

    def start_price(self, symbol: str) -> Decimal:
        """Where a symbol's prices start: a plausible level, or 100 if unknown."""
        return START_PRICES.get(symbol, Decimal("100.00"))

    def _book(self, symbol: str, price: Decimal | None = None) -> _Book:
        book = self._books.get(symbol)
        if book is None:
            start = price or self.start_price(symbol)
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
        if path == CONTROL_PATH and self.control is not None:
            return None
        if not self._path_ok(path):
            return ws.respond(HTTPStatus.NOT_FOUND, "Not Found\n")
        return None

    def _path_ok(self, path: str) -> bool:
        raise NotImplementedError

    async def _handle(self, ws: ServerConnection) -> None:
        assert ws.request is not None
        if self.control is not None and ws.request.path == CONTROL_PATH:
            await self._handle_control(self.control, ws)
            return
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

    async def _handle_control(self, control: TickControl, ws: ServerConnection) -> None:
        # Kept apart from _clients: a benchmark's control socket is not a
        # market-data subscriber and must not show in clients or drop().
        self._control_sockets.add(ws)
        try:
            await control.serve(ws)
        except ConnectionClosed:
            pass
        finally:
            self._control_sockets.discard(ws)

    def _new_client(self, ws: ServerConnection, path: str) -> _Client:
        return _Client(ws, path)

    async def _serve(self, client: _Client) -> None:
        raise NotImplementedError

    @staticmethod
    def encode(frame: Any) -> str:
        """Compact JSON like the exchanges send; amounts are already strings."""
        return json.dumps(frame, default=str, separators=(",", ":"))

    async def _send(self, client: _Client, frame: Any) -> None:
        await self._send_text(client, self.encode(frame))

    async def _send_text(self, client: _Client, text: str) -> None:
        """Send an encoded frame; a fan-out encodes once and calls this per socket."""
        if self._silent:
            return
        with contextlib.suppress(ConnectionClosed):
            await client.ws.send(text)
