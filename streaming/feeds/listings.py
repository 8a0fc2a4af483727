"""The asset registry: which base assets the configured exchanges actually list.

A symbol no exchange lists has no market price, and a price invented for it
(the simulation) would pass for one; so holdings and rules are checked against
this registry, and the simulated feed prices only listed symbols.

Each exchange is ONE entry of :data:`LISTING_SOURCES`: the public REST URL of
its listing and a pure parser from the decoded JSON to canonical base assets
(a new exchange, e.g. Kraken's ``/0/public/AssetPairs``, adds one entry).
Lists are fetched when reachable, kept in memory for ``ttl`` seconds, and
otherwise come from the snapshot shipped next to this module
(``listings_snapshot.json``; refresh it with
``python -m streaming.feeds.listings --write-snapshot``).
"""

from __future__ import annotations

import difflib
import json
import logging
import re
import threading
import time
import urllib.request
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

__all__ = [
    "ListingSource",
    "LISTING_SOURCES",
    "AssetRegistry",
    "default_registry",
    "parse_binance_exchange_info",
    "parse_coinbase_products",
    "parse_kraken_asset_pairs",
    "exchange_names",
]

logger = logging.getLogger(__name__)

SNAPSHOT_PATH = Path(__file__).with_name("listings_snapshot.json")
_CANONICAL = re.compile(r"[A-Z0-9]{2,15}")
DISPLAY_NAMES = {"binance": "Binance", "coinbase": "Coinbase", "kraken": "Kraken"}


def _bases(pairs: Iterable[tuple[Any, Any, bool]], quote: str) -> frozenset[str]:
    return frozenset(
        base
        for base, pair_quote, ok in pairs
        if ok
        and pair_quote == quote
        and isinstance(base, str)
        and _CANONICAL.fullmatch(base)
    )


def parse_binance_exchange_info(obj: Any) -> frozenset[str]:
    """Bases of TRADING ``<BASE>USDT`` pairs in ``GET /api/v3/exchangeInfo``.

    Sample: ``{"symbols": [{"symbol": "BTCUSDT", "status": "TRADING",
    "baseAsset": "BTC", "quoteAsset": "USDT"}]}``
    """
    rows = obj.get("symbols") if isinstance(obj, dict) else None
    if not isinstance(rows, list):
        raise ValueError("exchangeInfo without a 'symbols' list")
    return _bases(
        (
            (r.get("baseAsset"), r.get("quoteAsset"), r.get("status") == "TRADING")
            for r in rows
            if isinstance(r, dict)
        ),
        "USDT",
    )


def parse_coinbase_products(obj: Any) -> frozenset[str]:
    """Bases of online ``<BASE>-USD`` products in ``GET /products``.

    Sample: ``[{"id": "BTC-USD", "base_currency": "BTC", "quote_currency": "USD",
    "status": "online", "trading_disabled": false}]``
    """
    if not isinstance(obj, list):
        raise ValueError("products is not a list")
    return _bases(
        (
            (
                r.get("base_currency"),
                r.get("quote_currency"),
                r.get("status") == "online" and not r.get("trading_disabled"),
            )
            for r in obj
            if isinstance(r, dict)
        ),
        "USD",
    )


#: Kraken's legacy asset codes (REST ``wsname`` still uses them; WebSocket v2
#: and every other exchange use the common ones).
KRAKEN_LEGACY = {"XBT": "BTC", "XDG": "DOGE"}


def parse_kraken_asset_pairs(obj: Any) -> frozenset[str]:
    """Bases of online ``<BASE>/USD`` pairs in ``GET /0/public/AssetPairs``.

    Sample: ``{"error": [], "result": {"XXBTZUSD": {"altname": "XBTUSD",
    "wsname": "XBT/USD", "base": "XXBT", "quote": "ZUSD", "status": "online"}}}``
    """
    result = obj.get("result") if isinstance(obj, dict) else None
    if not isinstance(result, dict) or obj.get("error"):
        raise ValueError(f"AssetPairs error: {obj.get('error') if obj else obj!r}")
    pairs = []
    for row in result.values():
        if not isinstance(row, dict) or not isinstance(row.get("wsname"), str):
            continue
        base, _, quote = row["wsname"].partition("/")
        base = KRAKEN_LEGACY.get(base, base)
        pairs.append((base, quote, row.get("status", "online") == "online"))
    return _bases(pairs, "USD")


@dataclass(frozen=True)
class ListingSource:
    """Where an exchange publishes its listing, and how to read it."""

    url: str
    parse: Callable[[Any], frozenset[str]]


#: provider value -> its listing. One entry per exchange.
LISTING_SOURCES: dict[str, ListingSource] = {
    "binance": ListingSource(
        "https://api.binance.com/api/v3/exchangeInfo?permissions=SPOT",
        parse_binance_exchange_info,
    ),
    "coinbase": ListingSource(
        "https://api.exchange.coinbase.com/products", parse_coinbase_products
    ),
    "kraken": ListingSource(
        "https://api.kraken.com/0/public/AssetPairs", parse_kraken_asset_pairs
    ),
}


def exchange_names(providers: Iterable[str]) -> str:
    """ "Binance or Coinbase" / "Binance, Coinbase or Kraken" for messages."""
    names = [DISPLAY_NAMES.get(p, p.title()) for p in providers]
    if len(names) <= 1:
        return "".join(names) or "any exchange"
    return ", ".join(names[:-1]) + " or " + names[-1]


def _load_snapshot(path: Path) -> dict[str, frozenset[str]]:
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        logger.warning("listing snapshot %s unreadable", path, exc_info=True)
        return {}
    return {k: frozenset(v) for k, v in data.items() if isinstance(v, list)}


def _http_json(url: str, timeout: float) -> Any:
    request = urllib.request.Request(url, headers={"User-Agent": "portfolio-listing"})
    with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
        return json.loads(response.read(), parse_float=Decimal)


class AssetRegistry:
    """Listed base assets per provider: fetched, cached, else the snapshot."""

    def __init__(
        self,
        *,
        sources: Mapping[str, ListingSource] | None = None,
        urls: Mapping[str, str] | None = None,
        snapshot_path: Path = SNAPSHOT_PATH,
        fetch: bool = True,
        ttl: float = 6 * 3600,
        retry_after: float = 300.0,
        timeout: float = 3.0,
    ) -> None:
        self.sources = dict(LISTING_SOURCES if sources is None else sources)
        self.urls = {k: v for k, v in (urls or {}).items() if v}
        self.fetch = fetch
        self.ttl = ttl
        self.retry_after = retry_after
        self.timeout = timeout
        self._snapshot = _load_snapshot(snapshot_path)
        # provider -> (assets, monotonic time after which to fetch again, origin)
        self._cache: dict[str, tuple[frozenset[str], float, str]] = {}
        self._lock = threading.Lock()

    @property
    def providers(self) -> list[str]:
        return sorted(set(self.sources) | set(self._snapshot))

    def origin(self, provider: str) -> str:
        """ "exchange" (fetched), "snapshot" or "none": where the list came from."""
        self.listed(provider)
        entry = self._cache.get(provider)
        return entry[2] if entry else "none"

    def listed(self, provider: str) -> frozenset[str]:
        """The bases ``provider`` lists (empty for an unknown provider)."""
        now = time.monotonic()
        entry = self._cache.get(provider)
        if entry is not None and now < entry[1]:
            return entry[0]
        with self._lock:
            entry = self._cache.get(provider)
            if entry is not None and now < entry[1]:
                return entry[0]
            fetched = self._fetch(provider)
            if fetched is not None:
                entry = (fetched, now + self.ttl, "exchange")
            elif entry is not None and entry[2] == "exchange":
                # Unreachable now: a list fetched earlier beats the snapshot.
                entry = (entry[0], now + self.retry_after, "exchange")
            else:
                snapshot = self._snapshot.get(provider, frozenset())
                origin = "snapshot" if provider in self._snapshot else "none"
                entry = (snapshot, now + self.retry_after, origin)
            self._cache[provider] = entry
            return entry[0]

    def _fetch(self, provider: str) -> frozenset[str] | None:
        source = self.sources.get(provider)
        if not self.fetch or source is None:
            return None
        url = self.urls.get(provider, source.url)
        try:
            assets = source.parse(_http_json(url, self.timeout))
        except Exception as exc:  # noqa: BLE001 - offline: the snapshot serves
            logger.info("%s listing unreachable (%s); snapshot used", provider, exc)
            return None
        if not assets:
            logger.warning("%s listing at %s lists nothing; ignored", provider, url)
            return None
        logger.info("%s lists %d assets (%s)", provider, len(assets), url)
        return assets

    def where_listed(self, symbol: str, providers: Iterable[str]) -> list[str]:
        """Which of ``providers`` list ``symbol``."""
        return [p for p in providers if symbol in self.listed(p)]

    def listed_anywhere(self, symbol: str) -> bool:
        """Whether any known exchange lists ``symbol`` (the simulation's test)."""
        return bool(self.where_listed(symbol, self.providers))

    def suggest(self, symbol: str, providers: Iterable[str]) -> str | None:
        """The listed symbol closest to a mistyped one, if any is close."""
        candidates = sorted(set().union(*(self.listed(p) for p in providers)))
        if not isinstance(symbol, str) or not candidates:
            return None
        matches = difflib.get_close_matches(symbol.upper(), candidates, n=1, cutoff=0.6)
        return matches[0] if matches else None

    def unlisted_message(self, symbol: str, providers: list[str]) -> str | None:
        """None when listed; else the user's explanation, with a suggestion."""
        if self.where_listed(symbol, providers):
            return None
        text = f"{symbol} is not listed on {exchange_names(providers)}."
        suggestion = self.suggest(symbol, providers)
        if suggestion and suggestion != symbol:
            text += f" Did you mean {suggestion}?"
        return text


_default: AssetRegistry | None = None


def default_registry() -> AssetRegistry:
    """The process's registry, configured from Django settings when present."""
    global _default
    if _default is None:
        _default = AssetRegistry(**_settings_options())
    return _default


def set_default_registry(registry: AssetRegistry | None) -> None:
    """Replace the process registry (tests; ``None`` rebuilds it from settings)."""
    global _default
    _default = registry


def _settings_options() -> dict[str, Any]:
    try:
        from django.conf import settings

        if not settings.configured:
            return {}
        return {
            "fetch": getattr(settings, "ASSET_LISTINGS_FETCH", True),
            "urls": getattr(settings, "ASSET_LISTING_URLS", {}),
        }
    except ImportError:
        return {}


def write_snapshot(path: Path = SNAPSHOT_PATH) -> dict[str, int]:
    """Fetch every exchange's listing now and store it as the shipped snapshot."""
    registry = AssetRegistry(snapshot_path=Path("/nonexistent"))
    data: dict[str, Any] = json.loads(path.read_text()) if path.exists() else {}
    counts = {}
    for provider in registry.sources:
        fetched = registry._fetch(provider)
        if fetched:
            data[provider] = sorted(fetched)
            counts[provider] = len(fetched)
    path.write_text(json.dumps(data, indent=1) + "\n")
    return counts


if __name__ == "__main__":  # pragma: no cover - a maintenance command
    import sys

    if sys.argv[1:] != ["--write-snapshot"]:
        sys.exit("usage: python -m streaming.feeds.listings --write-snapshot")
    logging.basicConfig(level=logging.INFO)
    logger.info("snapshot written: %s", write_snapshot())
