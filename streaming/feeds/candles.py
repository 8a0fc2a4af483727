"""Historical candles from the exchanges' public REST endpoints.

Each exchange is ONE entry of :data:`CANDLE_SOURCES`: a URL builder (one page
of candles from ``start``) and a pure parser from the decoded JSON to
:class:`Candle` rows, prices decoded exactly as Decimal. Only closed candles
are returned (an open candle's close is not a close yet). :class:`CandleClient`
pages through a range with a bounded number of requests and backs off, per
provider and symbol, from an exchange that failed (offline installs pay for
one failed request per backoff window, not one per page view).

Samples (one row each)::

    Binance GET /api/v3/klines?symbol=BTCUSDT&interval=1h&startTime=..&limit=1000
      [[1704067200000, "42283.58", "42554.57", "42261.02", "42475.23", "1271.68",
        1704070799999, "53957.69", 40650, "682.16", "28952.47", "0"]]
    Coinbase GET /products/BTC-USD/candles?granularity=3600&start=..&end=..
      [[1704067200, 42261.02, 42554.57, 42283.58, 42475.23, 271.68]]
      (time, low, high, open, close, volume; newest first)
    Kraken GET /0/public/OHLC?pair=XBTUSD&interval=60&since=..
      {"error": [], "result": {"XXBTZUSD": [[1704067200, "42283.5", "42554.5",
        "42261.0", "42475.2", "42400.1", "12.5", 321]], "last": 1704067200}}
"""

from __future__ import annotations

import json
import logging
import time
import urllib.parse
import urllib.request
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from .listings import KRAKEN_LEGACY

__all__ = [
    "INTERVALS",
    "Candle",
    "CandleSource",
    "CANDLE_SOURCES",
    "CandleClient",
    "parse_binance_klines",
    "parse_coinbase_candles",
    "parse_kraken_ohlc",
]

logger = logging.getLogger(__name__)

#: Interval name -> its length. Hourly and daily candles only.
INTERVALS: dict[str, timedelta] = {"1h": timedelta(hours=1), "1d": timedelta(days=1)}
_SECONDS = {"1h": 3600, "1d": 86400}
_KRAKEN_MINUTES = {"1h": 60, "1d": 1440}
_KRAKEN_CODES = {v: k for k, v in KRAKEN_LEGACY.items()}


@dataclass(frozen=True)
class Candle:
    """One closed candle: when it opened and its exact closing price (USD)."""

    open_time: datetime
    close: Decimal


def _decimal(value: Any) -> Decimal:
    """An exact price: a string or a JSON number already decoded as Decimal."""
    if isinstance(value, bool) or not isinstance(value, (str, int, Decimal)):
        raise ValueError(f"price {value!r} is not an exact number")
    try:
        price = Decimal(value)
    except InvalidOperation as exc:
        raise ValueError(f"price {value!r} is not a number") from exc
    if not price.is_finite() or price <= 0:
        raise ValueError(f"price {value!r} is not a positive number")
    return price


def _time(seconds: Any) -> datetime:
    if isinstance(seconds, bool) or not isinstance(seconds, (int, Decimal)):
        raise ValueError(f"candle time {seconds!r} is not an integer")
    return datetime.fromtimestamp(int(seconds), UTC)


def parse_binance_klines(obj: Any) -> list[Candle]:
    """``[[openTime ms, open, high, low, close, ...], ...]`` (prices are strings)."""
    if not isinstance(obj, list):
        raise ValueError("klines is not a list")
    rows = []
    for row in obj:
        if not isinstance(row, list) or len(row) < 5:
            raise ValueError(f"kline row {row!r} too short")
        if isinstance(row[0], bool) or not isinstance(row[0], int):
            raise ValueError(f"kline open time {row[0]!r} is not an integer")
        rows.append(Candle(_time(row[0] // 1000), _decimal(row[4])))
    return rows


def parse_coinbase_candles(obj: Any) -> list[Candle]:
    """``[[time, low, high, open, close, volume], ...]``, newest first."""
    if not isinstance(obj, list):
        raise ValueError(f"candles is not a list: {obj!r:.200}")
    rows = []
    for row in obj:
        if not isinstance(row, list) or len(row) < 5:
            raise ValueError(f"candle row {row!r} too short")
        rows.append(Candle(_time(row[0]), _decimal(row[4])))
    return rows


def parse_kraken_ohlc(obj: Any) -> list[Candle]:
    """``result.<pair> = [[time, open, high, low, close, vwap, volume, count]]``."""
    result = obj.get("result") if isinstance(obj, dict) else None
    if not isinstance(result, dict) or obj.get("error"):
        raise ValueError(f"OHLC error: {obj.get('error') if obj else obj!r}")
    series = [v for k, v in result.items() if k != "last" and isinstance(v, list)]
    if len(series) != 1:
        raise ValueError("OHLC result without exactly one pair")
    rows = []
    for row in series[0]:
        if not isinstance(row, list) or len(row) < 5:
            raise ValueError(f"OHLC row {row!r} too short")
        rows.append(Candle(_time(row[0]), _decimal(row[4])))
    return rows


def _binance_url(base: str, symbol: str, interval: str, start: datetime) -> str:
    query = {
        "symbol": f"{symbol}USDT",
        "interval": interval,
        "startTime": int(start.timestamp()) * 1000,
        "limit": 1000,
    }
    return f"{base}/api/v3/klines?{urllib.parse.urlencode(query)}"


def _coinbase_url(base: str, symbol: str, interval: str, start: datetime) -> str:
    # At most 300 candles per request.
    end = start + INTERVALS[interval] * 299
    query = {
        "granularity": _SECONDS[interval],
        "start": start.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "end": end.strftime("%Y-%m-%dT%H:%M:%SZ"),
    }
    return f"{base}/products/{symbol}-USD/candles?{urllib.parse.urlencode(query)}"


def _kraken_url(base: str, symbol: str, interval: str, start: datetime) -> str:
    query = {
        "pair": f"{_KRAKEN_CODES.get(symbol, symbol)}USD",
        "interval": _KRAKEN_MINUTES[interval],
        "since": int(start.timestamp()) - 1,
    }
    return f"{base}/0/public/OHLC?{urllib.parse.urlencode(query)}"


@dataclass(frozen=True)
class CandleSource:
    """Where an exchange serves candles (base URL, one page's URL) and its parser."""

    base_url: str
    url: Callable[[str, str, str, datetime], str]
    parse: Callable[[Any], list[Candle]]
    #: Candles per page; 0: one page is all there is (Kraken serves only
    #: its latest 720 candles).
    page_size: int = 0


#: provider value -> its candle endpoint. One entry per exchange.
CANDLE_SOURCES: dict[str, CandleSource] = {
    "binance": CandleSource(
        "https://api.binance.com", _binance_url, parse_binance_klines, 1000
    ),
    "coinbase": CandleSource(
        "https://api.exchange.coinbase.com", _coinbase_url, parse_coinbase_candles, 300
    ),
    "kraken": CandleSource("https://api.kraken.com", _kraken_url, parse_kraken_ohlc),
}


def _http_json(url: str, timeout: float) -> Any:
    request = urllib.request.Request(url, headers={"User-Agent": "portfolio-candles"})
    with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
        return json.loads(response.read(), parse_float=Decimal)


@dataclass
class _Backoff:
    failures: int = 0
    until: float = 0.0


@dataclass
class CandleClient:
    """Fetches a range of closed candles from the first provider that has them."""

    providers: Sequence[str] = ("binance", "coinbase")
    urls: Mapping[str, str] = field(default_factory=dict)
    timeout: float = 5.0
    max_requests: int = 12
    backoff_base: float = 30.0
    backoff_max: float = 1800.0
    http: Callable[[str, float], Any] = _http_json
    clock: Callable[[], float] = time.monotonic
    _backoff: dict[tuple[str, str], _Backoff] = field(default_factory=dict)

    def fetch(
        self, symbol: str, interval: str, start: datetime, end: datetime
    ) -> tuple[str, list[Candle]] | None:
        """``(provider, candles)`` opening in ``[start, end)``; None: unreachable."""
        empty: tuple[str, list[Candle]] | None = None
        for provider in self.providers:
            source = CANDLE_SOURCES.get(provider)
            if source is None or self._waiting(provider, symbol):
                continue
            try:
                candles = self._pages(source, provider, symbol, interval, start, end)
            except Exception as exc:  # noqa: BLE001 - offline or refused: next one
                self._failed(provider, symbol, exc)
                continue
            self._backoff.pop((provider, symbol), None)
            if candles:
                return provider, candles
            empty = empty or (provider, candles)
        return empty

    def _pages(
        self,
        source: CandleSource,
        provider: str,
        symbol: str,
        interval: str,
        start: datetime,
        end: datetime,
    ) -> list[Candle]:
        step = INTERVALS[interval]
        closed_before = datetime.now(UTC)
        base = self.urls.get(provider) or source.base_url
        found: dict[datetime, Candle] = {}
        cursor = start
        for _ in range(self.max_requests):
            url = source.url(base.rstrip("/"), symbol, interval, cursor)
            page = source.parse(self.http(url, self.timeout))
            for candle in page:
                if start <= candle.open_time < end:
                    if candle.open_time + step <= closed_before:
                        found[candle.open_time] = candle
            latest = max((c.open_time for c in page), default=None)
            if latest is None:  # nothing in this window (not listed yet)
                cursor += step * source.page_size
            else:
                cursor = max(latest + step, cursor + step)
            if not source.page_size or cursor >= end or cursor > closed_before:
                break
        logger.info("%s: %d %s candles of %s", provider, len(found), interval, symbol)
        return [found[t] for t in sorted(found)]

    def _waiting(self, provider: str, symbol: str) -> bool:
        state = self._backoff.get((provider, symbol))
        return state is not None and self.clock() < state.until

    def _failed(self, provider: str, symbol: str, exc: Exception) -> None:
        state = self._backoff.setdefault((provider, symbol), _Backoff())
        state.failures += 1
        delay = min(self.backoff_max, self.backoff_base * 2 ** (state.failures - 1))
        state.until = self.clock() + delay
        logger.info(
            "%s candles of %s unavailable (%s); next try in %.0f s",
            provider,
            symbol,
            exc,
            delay,
        )
