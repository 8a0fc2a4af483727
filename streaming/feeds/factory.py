"""Build the feed class for a provider, pointed at the configured URL."""

from __future__ import annotations

from typing import Any

from streaming.exceptions import ConfigurationError
from streaming.feeds.base import BasePriceFeed
from streaming.feeds.binance import BINANCE_URL, BinancePriceFeed
from streaming.feeds.coinbase import COINBASE_URL, CoinbasePriceFeed
from streaming.feeds.kraken import KRAKEN_URL, KrakenPriceFeed
from streaming.feeds.mock import MockPriceFeed
from streaming.feeds.providers import PriceFeedProvider
from streaming.manager import StreamManager

__all__ = ["default_feed_factory"]


def default_feed_factory(
    provider: PriceFeedProvider,
    symbols: list[str],
    stream_manager: StreamManager | None = None,
    *,
    url: str | None = None,
    **options: Any,
) -> BasePriceFeed:
    """The feed for ``provider``, its sockets registered with ``stream_manager``.

    Without ``url`` the ``BINANCE_WS_URL``/``COINBASE_WS_URL``/``KRAKEN_WS_URL``
    Django settings are used when configured, so a deployment can point at a local fake
    exchange. ``options`` go to the feed (e.g. ``data_timeout``; for the mock
    ``update_interval``).
    """
    if provider is PriceFeedProvider.BINANCE:
        url = url or _setting("BINANCE_WS_URL", BINANCE_URL)
        return BinancePriceFeed(
            symbols, url=url, stream_manager=stream_manager, **options
        )
    if provider is PriceFeedProvider.COINBASE:
        url = url or _setting("COINBASE_WS_URL", COINBASE_URL)
        return CoinbasePriceFeed(
            symbols, url=url, stream_manager=stream_manager, **options
        )
    if provider is PriceFeedProvider.KRAKEN:
        url = url or _setting("KRAKEN_WS_URL", KRAKEN_URL)
        return KrakenPriceFeed(
            symbols, url=url, stream_manager=stream_manager, **options
        )
    if provider is PriceFeedProvider.MOCK:
        return MockPriceFeed(symbols, **options)
    raise ConfigurationError(f"unknown provider {provider!r}")


def _setting(name: str, default: str) -> str:
    """A Django setting when Django is configured, else ``default``."""
    try:
        from django.conf import settings

        if settings.configured:
            return getattr(settings, name, None) or default
    except ImportError:
        pass
    return default
