"""A fake of the three exchanges' public candle endpoints on 127.0.0.1.

Prices come from a function ``price(symbol, interval, open_time) -> Decimal |
None`` (None: no candle); every request is recorded, and ``fail`` makes every
answer a 503. Binance klines carry prices as strings, Coinbase's as JSON
numbers (written out exactly), Kraken's as strings with its ``XBT`` code.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

PriceFn = Callable[[str, str, datetime], Decimal | None]
STEP = {"1h": timedelta(hours=1), "1d": timedelta(days=1)}


class FakeCandles:
    def __init__(self, price: PriceFn, *, limit: int = 1000) -> None:
        self.price = price
        self.limit = limit
        self.requests: list[str] = []
        self.fail = False
        self.now = lambda: datetime.now(UTC)

    def series(self, symbol, interval, start, end=None):
        step = STEP[interval]
        seconds = int(start.timestamp())
        t = datetime.fromtimestamp(seconds - seconds % int(step.total_seconds()), UTC)
        if t < start:
            t += step
        rows = []
        while t <= self.now() and len(rows) < self.limit and (end is None or t <= end):
            price = self.price(symbol, interval, t)
            if price is not None:
                rows.append((t, price))
            t += step
        return rows

    def answer(self, path: str, query: dict[str, str]) -> object:
        if path == "/api/v3/klines":
            symbol = query["symbol"].removesuffix("USDT")
            start = datetime.fromtimestamp(int(query["startTime"]) / 1000, UTC)
            rows = self.series(symbol, query["interval"], start)
            return [
                [int(t.timestamp()) * 1000, "1", "1", "1", str(p), "0"] for t, p in rows
            ]
        if path.startswith("/products/") and path.endswith("/candles"):
            symbol = path.split("/")[2].removesuffix("-USD")
            interval = {"3600": "1h", "86400": "1d"}[query["granularity"]]
            start = datetime.fromisoformat(query["start"].replace("Z", "+00:00"))
            end = datetime.fromisoformat(query["end"].replace("Z", "+00:00"))
            rows = self.series(symbol, interval, start, end)
            return [
                [int(t.timestamp()), 1, 1, 1, f"__n{p}n__", 0]
                for t, p in reversed(rows)
            ]
        if path == "/0/public/OHLC":
            code = query["pair"].removesuffix("USD")
            symbol = {"XBT": "BTC", "XDG": "DOGE"}.get(code, code)
            interval = {"60": "1h", "1440": "1d"}[query["interval"]]
            start = datetime.fromtimestamp(int(query["since"]) + 1, UTC)
            rows = self.series(symbol, interval, start)
            data = [
                [int(t.timestamp()), "1", "1", "1", str(p), "1", "0", 1]
                for t, p in rows
            ]
            return {"error": [], "result": {f"X{code}ZUSD": data, "last": 0}}
        raise KeyError(path)


def _handler(fake: FakeCandles):
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 - http.server's name
            fake.requests.append(self.path)
            parts = urlsplit(self.path)
            query = {k: v[0] for k, v in parse_qs(parts.query).items()}
            try:
                if fake.fail:
                    raise RuntimeError("down")
                body = json.dumps(fake.answer(parts.path, query), default=str)
                # Coinbase sends numbers: write Decimals as bare JSON numbers.
                body = body.replace('"__n', "").replace('n__"', "")
                status = 200
            except KeyError:
                body, status = '{"msg": "unknown"}', 404
            except Exception:  # noqa: BLE001
                body, status = '{"msg": "unavailable"}', 503
            data = body.encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args) -> None:
            pass

    return Handler


@contextmanager
def serve(price: PriceFn, **kwargs) -> Iterator[tuple[str, FakeCandles]]:
    """``(base_url, fake)`` while a fake candle server runs on 127.0.0.1."""
    fake = FakeCandles(price, **kwargs)
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(fake))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}", fake
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
