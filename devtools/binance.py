"""FakeBinance: spot market streams with method frames, limits and ``24hrTicker``.

Speaks ``wss://stream.binance.com:9443``: combined ``/stream?streams=a/b`` and raw
``/ws/<stream>`` endpoints, ``SUBSCRIBE``/``UNSUBSCRIBE``/``LIST_SUBSCRIPTIONS``
answered as documented (``{"result": null, "id": 1}``), 5 incoming messages a
second before a disconnect, and ``serverShutdown`` before maintenance. Built with
``control_symbols`` it also serves ``/control`` for benchmarks (see
``devtools.control``).
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from decimal import Decimal
from typing import Any
from urllib.parse import parse_qs, urlsplit

from websockets.asyncio.server import ServerConnection

from devtools.base import EIGHT, FakeExchange, _Book, _Client

__all__ = ["FakeBinance"]

logger = logging.getLogger(__name__)


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
        # Encoded once per shape, not per socket: benchmarks fan out at high rates.
        combined = self.encode({"stream": stream, "data": data})
        raw = self.encode(data)
        for client in list(self._clients):
            if stream in client.streams:
                await self._send_text(client, combined if client.combined else raw)
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
