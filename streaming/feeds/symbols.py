"""The one mapping between canonical symbols and exchange symbols.

Canonical form across the product: the base asset in upper case (``"BTC"``),
priced in USD. Binance has no USD spot book worth using, so we ask it for
``<BASE>USDT`` pairs and count USDT as USD (a documented approximation: USDT
trades within a fraction of a percent of USD). Coinbase is asked for
``<BASE>-USD`` products, Kraken (WebSocket v2, which writes BTC, not v1's XBT)
for ``<BASE>/USD`` pairs.

A frame for a pair that is not quoted in USDT (Binance) or USD (Coinbase, Kraken) maps
to ``None``: it is not malformed, just not a price we publish, so parsers return
``None`` for it instead of raising.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from streaming.exceptions import ConfigurationError
from streaming.feeds.providers import PriceFeedProvider

__all__ = [
    "validate_symbol",
    "to_exchange_symbol",
    "from_exchange_symbol",
    "symbol_reader",
    "binance_stream_name",
    "is_supported",
    "UNSUPPORTED",
]

_CANONICAL = re.compile(r"[A-Z0-9]{2,15}")

#: Canonical symbols an exchange cannot price in our quote currency: the quote
#: asset itself (there is no USDTUSDT pair, no USD-USD product).
UNSUPPORTED: dict[str, frozenset[str]] = {
    "binance": frozenset({"USDT", "USD"}),
    "coinbase": frozenset({"USD"}),
    "kraken": frozenset({"USD"}),
    "mock": frozenset(),
}


def validate_symbol(symbol: str) -> str:
    """Return ``symbol`` if canonical, else raise ConfigurationError saying why."""
    if not isinstance(symbol, str) or not _CANONICAL.fullmatch(symbol):
        raise ConfigurationError(
            f"invalid symbol {symbol!r}: expected the base asset in upper case, "
            "2-15 letters or digits, e.g. 'BTC'"
        )
    return symbol


def is_supported(provider: PriceFeedProvider, symbol: str) -> bool:
    """Whether ``provider`` can price the canonical ``symbol`` in USD."""
    return symbol not in UNSUPPORTED[provider.value]


def to_exchange_symbol(provider: PriceFeedProvider, symbol: str) -> str:
    """Map a canonical symbol to the exchange's pair name.

    Binance: ``"BTCUSDT"`` (upper-case pair, as in frames' ``s`` field); use
    :func:`binance_stream_name` for the lower-case stream name. Coinbase:
    ``"BTC-USD"``. Kraken: ``"BTC/USD"``. Mock: the symbol itself. Raises
    ConfigurationError for an invalid or unsupported symbol so it is reported,
    never silently dropped.
    """
    validate_symbol(symbol)
    if not is_supported(provider, symbol):
        raise ConfigurationError(
            f"{provider.value} has no USD market for {symbol!r} "
            "(it is the quote currency itself)"
        )
    name = provider.value
    if name == "binance":
        return f"{symbol}USDT"
    if name == "coinbase":
        return f"{symbol}-USD"
    if name == "kraken":
        return f"{symbol}/USD"
    return symbol


def binance_stream_name(symbol: str, kind: str = "ticker") -> str:
    """Binance stream name for a canonical symbol: ``"btcusdt@ticker"``."""
    return f"{to_exchange_symbol(PriceFeedProvider.BINANCE, symbol).lower()}@{kind}"


def from_exchange_symbol(
    provider: PriceFeedProvider, exchange_symbol: str
) -> str | None:
    """Map an exchange pair back to the canonical symbol, or None if not USD-quoted.

    Accepts Binance pairs in either case (``"BTCUSDT"``/``"btcusdt"``) and
    Coinbase products (``"BTC-USD"``) and Kraken v2 pairs (``"BTC/USD"``).
    """
    if not isinstance(exchange_symbol, str):
        return None
    return _READERS[provider](exchange_symbol)


def symbol_reader(provider: PriceFeedProvider) -> Callable[[str], str | None]:
    """:func:`from_exchange_symbol` for one provider, for a ``str`` pair.

    The per-frame path: a feed sees the same few pairs on every frame, so each
    provider keeps one cache keyed by the pair string alone (no provider enum
    to hash per call).
    """
    return _READERS[provider]


def _reader(provider: PriceFeedProvider) -> Callable[[str], str | None]:
    name = provider.value
    known: dict[str, str | None] = {}

    def read(pair: str) -> str | None:
        try:
            return known[pair]
        except KeyError:
            if len(known) >= 4096:  # bounded: pairs come from the exchange
                known.clear()
            symbol = known[pair] = _base_of(name, pair)
            return symbol

    return read


def _base_of(name: str, exchange_symbol: str) -> str | None:
    if name == "binance":
        pair = exchange_symbol.upper()
        base = pair[:-4] if pair.endswith("USDT") else None
    elif name == "coinbase":
        base, sep, quote = exchange_symbol.upper().rpartition("-")
        if not sep or quote != "USD":
            base = None
    elif name == "kraken":
        base, sep, quote = exchange_symbol.upper().rpartition("/")
        if not sep or quote != "USD":
            base = None
    else:
        base = exchange_symbol
    if base is None or not _CANONICAL.fullmatch(base):
        return None
    return base


_READERS = {provider: _reader(provider) for provider in PriceFeedProvider}
