"""What the live worker needs, defaulting from Django settings."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.conf import settings

from streaming.feeds.providers import PriceFeedProvider
from streaming.pacing import PRICE_FEED_MAX_RECONNECT_DELAY

__all__ = ["WorkerConfig", "parse_providers"]


@dataclass
class WorkerConfig:
    """Everything the worker needs, defaulting from settings."""

    providers: list[PriceFeedProvider] = field(default_factory=list)
    symbols: list[str] | None = None  # None: held symbols + watch list, refreshed
    watch_symbols: list[str] = field(default_factory=list)
    publish_interval: float = 0.25
    stale_after: float = 10.0
    startup_window: float = 15.0
    snapshot_interval: float = 60.0
    refresh_interval: float = 2.0
    status_interval: float = 5.0
    mock_interval: float = 1.0
    use_lock: bool = False
    lock_ttl: float = 10.0
    urls: dict[PriceFeedProvider, str] = field(default_factory=dict)
    #: Reopen an exchange socket that sent nothing at all for this long.
    data_timeout: float = 60.0
    #: Longest wait between reconnect attempts (jittered below it): prices
    #: flow again within ~this long of an exchange's return (streaming/pacing.py).
    max_reconnect_delay: float = PRICE_FEED_MAX_RECONNECT_DELAY

    @classmethod
    def from_settings(cls, **overrides: Any) -> WorkerConfig:
        config = cls(
            providers=parse_providers(settings.PRICE_FEEDS),
            watch_symbols=list(settings.WATCH_SYMBOLS),
            publish_interval=settings.PRICE_PUBLISH_INTERVAL,
            stale_after=settings.PRICE_STALE_AFTER,
            startup_window=settings.FEED_STARTUP_WINDOW,
            snapshot_interval=settings.PORTFOLIO_SNAPSHOT_INTERVAL,
            use_lock=bool(settings.REDIS_URL),
            lock_ttl=settings.WORKER_LOCK_TTL,
            urls={
                PriceFeedProvider.BINANCE: settings.BINANCE_WS_URL,
                PriceFeedProvider.COINBASE: settings.COINBASE_WS_URL,
                PriceFeedProvider.KRAKEN: settings.KRAKEN_WS_URL,
            },
        )
        for key, value in overrides.items():
            if value is not None:
                setattr(config, key, value)
        return config


def parse_providers(names: list[str] | str) -> list[PriceFeedProvider]:
    """``"binance,coinbase"`` → providers in priority order; ValueError if unknown."""
    if isinstance(names, str):
        names = names.split(",")
    result: list[PriceFeedProvider] = []
    for raw in names:
        name = raw.strip().lower()
        if not name:
            continue
        try:
            provider = PriceFeedProvider(name)
        except ValueError:
            valid = ", ".join(p.value for p in PriceFeedProvider)
            raise ValueError(
                f"Unknown price feed {raw!r}; choose from {valid}."
            ) from None
        if provider not in result:
            result.append(provider)
    if not result:
        raise ValueError("No price feed given; e.g. binance,coinbase or mock.")
    return result
