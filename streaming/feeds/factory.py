"""Build the real feed class for a provider, pointed at the configured URLs."""

from __future__ import annotations

from streaming.exceptions import ConfigurationError
from streaming.feeds.base import BasePriceFeed
from streaming.feeds.providers import PriceFeedProvider
from streaming.manager import StreamManager

__all__ = ["default_feed_factory"]


def default_feed_factory(
    provider: PriceFeedProvider,
    symbols: list[str],
    stream_manager: StreamManager | None = None,
) -> BasePriceFeed:
    """Build the real feed class for ``provider``.

    The URLs come from the ``BINANCE_WS_URL``/``COINBASE_WS_URL`` Django settings
    when they are configured, so a deployment can point at a local fake exchange.
    """
    if provider is PriceFeedProvider.BINANCE:
        from streaming.feeds.binance import BINANCE_URL, BinancePriceFeed

        url = _setting("BINANCE_WS_URL", BINANCE_URL)
        return BinancePriceFeed(symbols, url=url, stream_manager=stream_manager)
    if provider is PriceFeedProvider.COINBASE:
        from streaming.feeds.coinbase import COINBASE_URL, CoinbasePriceFeed

        url = _setting("COINBASE_WS_URL", COINBASE_URL)
        return CoinbasePriceFeed(symbols, url=url, stream_manager=stream_manager)
    if provider is PriceFeedProvider.MOCK:
        from streaming.feeds.mock import MockPriceFeed

        return MockPriceFeed(symbols)
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
