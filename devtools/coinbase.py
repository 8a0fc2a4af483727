"""FakeCoinbase: Exchange feed with subscribe deadline, ``ticker`` and ``heartbeat``."""

from __future__ import annotations

import asyncio
import contextlib
import json
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from devtools.base import EIGHT, FakeExchange, _Book, _Client

__all__ = ["FakeCoinbase"]


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
        text = self.encode(frame)  # once, not per socket
        for client in list(self._clients):
            if product in client.channels.get("ticker", []):
                await self._send_text(client, text)
