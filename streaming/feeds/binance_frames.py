"""Binance combined-stream frames: the endpoint and the pure ``24hrTicker`` parser.

A real frame::

    {"stream":"btcusdt@ticker","data":{"e":"24hrTicker","E":1580254809477,
     "s":"BTCUSDT","p":"420.97000000","P":"4.720","c":"9338.96000000",
     "v":"72229.53692000", ...}}

``c`` last price, ``v`` 24 h base volume, ``p``/``P`` 24 h change (abs/percent).

:func:`decode` reads a ticker frame straight into :class:`TickerFrame` (msgspec,
one C pass that keeps only the fields read here and checks their types); any
other frame (acks, errors, ``serverShutdown``, a ticker that does not fit,
amounts sent as numbers) is decoded as generic exact JSON and parsed from the
dict, so both ways give the same prices and the same errors.
"""

from __future__ import annotations

from typing import Any, Literal
from urllib.parse import urlsplit, urlunsplit

import msgspec

from streaming.exceptions import DataError
from streaming.feeds.base import DataSource, PriceFeedProvider, PriceUpdate
from streaming.feeds.parsing import (
    Amount,
    amount,
    decimal_field,
    epoch_ms,
    epoch_ms_value,
    typed_decoder,
)
from streaming.feeds.symbols import symbol_reader

__all__ = [
    "BINANCE_URL",
    "TickerFrame",
    "decode",
    "stream_url",
    "is_server_shutdown",
    "parse",
    "parse_message",
]

BINANCE_URL = "wss://stream.binance.com:9443/stream"
_SOURCE = DataSource.BINANCE
_symbol_of = symbol_reader(PriceFeedProvider.BINANCE)


class _Ticker(msgspec.Struct):
    e: Literal["24hrTicker"]
    E: int
    s: str
    c: Amount
    v: Amount
    p: Amount
    P: Amount


class TickerFrame(msgspec.Struct):
    """A combined-stream ``24hrTicker`` frame, only the fields the parser reads."""

    stream: str
    data: _Ticker


#: The feed's frame decoder: a :class:`TickerFrame`, else generic exact JSON.
decode = typed_decoder(TickerFrame)


def stream_url(base: str) -> str:
    """The combined-stream endpoint: ``/stream`` added to a base without a path."""
    parts = urlsplit(base)
    return urlunsplit(
        parts._replace(path="/stream") if parts.path in ("", "/") else parts
    )


def is_server_shutdown(obj: Any) -> bool:
    """True for a ``serverShutdown`` event (raw or combined): time to reconnect."""
    data = obj.get("data", obj) if isinstance(obj, dict) else None
    return isinstance(data, dict) and data.get("e") == "serverShutdown"


def parse(raw: str | bytes) -> PriceUpdate | None:
    """Parse one raw frame; None if it has no price, DataError if malformed."""
    return parse_message(decode(raw))


def parse_message(obj: Any) -> PriceUpdate | None:
    """Parse one decoded frame (amounts as str/Decimal) into a PriceUpdate.

    Acks, other events (including ``serverShutdown``, see
    :func:`is_server_shutdown`), all-market arrays and pairs not quoted in
    USDT give None; ``{"code", "msg"}`` error frames raise DataError.
    A :class:`TickerFrame` from :func:`decode` is read the same way.
    """
    if type(obj) is TickerFrame:
        return _from_ticker(obj.data)
    if type(obj) is not dict:
        if isinstance(obj, list):
            return None
        raise DataError(f"frame is not a JSON object: {type(obj).__name__}")
    if "code" in obj and "msg" in obj:
        raise DataError(f"binance error {obj['code']}: {obj['msg']}")
    if "id" in obj and ("result" in obj or "error" in obj):
        return None
    data = obj["data"] if "stream" in obj and "data" in obj else obj
    if type(data) is not dict:
        raise DataError(f"data is not a JSON object: {type(data).__name__}")
    if data.get("e") != "24hrTicker":
        return None
    pair = data.get("s")
    if type(pair) is not str:
        raise DataError("ticker without a string 's' symbol")
    symbol = _symbol_of(pair)
    if symbol is None:
        return None
    volume = decimal_field(data, "v")
    if volume < 0:
        raise DataError(f"negative volume {volume}")
    return PriceUpdate(
        symbol,
        decimal_field(data, "c", positive=True),
        epoch_ms(data, "E"),
        volume,
        decimal_field(data, "p"),
        decimal_field(data, "P"),
        _SOURCE,
        "USDT",
    )


def _from_ticker(data: _Ticker) -> PriceUpdate | None:
    """The typed twin of the dict path above: same checks, same errors."""
    symbol = _symbol_of(data.s)
    if symbol is None:
        return None
    volume = amount(data.v, "v")
    if volume < 0:
        raise DataError(f"negative volume {volume}")
    return PriceUpdate(
        symbol,
        amount(data.c, "c", True),
        epoch_ms_value(data.E, "E"),
        volume,
        amount(data.p, "p"),
        amount(data.P, "P"),
        _SOURCE,
        "USDT",
    )
