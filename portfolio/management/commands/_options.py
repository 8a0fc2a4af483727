"""Options shared by ``run_feeds`` and ``serve``."""

from __future__ import annotations

from typing import Any

from django.core.management.base import CommandError, CommandParser

from portfolio.live.config import WorkerConfig, parse_providers
from portfolio.validators import SYMBOL_RE


def add_feed_arguments(parser: CommandParser) -> None:
    parser.add_argument(
        "--providers",
        help="Price feeds in priority order, comma-separated: binance, coinbase, "
        "kraken, mock (default: the PRICE_FEEDS setting, binance,coinbase). "
        "The first is primary.",
    )
    parser.add_argument(
        "--symbols",
        help="Fixed symbols to stream, e.g. BTC,ETH (default: every held symbol plus "
        "WATCH_SYMBOLS, refreshed when holdings change).",
    )
    parser.add_argument(
        "--publish-interval",
        type=float,
        help="Seconds between two publications of one symbol (default 0.25).",
    )
    parser.add_argument(
        "--stale-after",
        type=float,
        help="Seconds without a primary price before the fallback serves (default 10).",
    )
    parser.add_argument(
        "--startup-window",
        type=float,
        help=(
            "Seconds to wait for a real exchange before simulated prices (default 15)."
        ),
    )


def config_from_options(options: dict[str, Any]) -> WorkerConfig:
    try:
        providers = (
            parse_providers(options["providers"]) if options["providers"] else None
        )
    except ValueError as exc:
        raise CommandError(str(exc)) from None
    symbols = None
    if options["symbols"]:
        symbols = [
            s.strip().upper() for s in options["symbols"].split(",") if s.strip()
        ]
        bad = [s for s in symbols if not SYMBOL_RE.fullmatch(s)]
        if bad or not symbols:
            raise CommandError(
                f"Invalid symbols {', '.join(bad) or '(none)'}: "
                "use base assets like BTC,ETH."
            )
    for name in ("publish_interval", "stale_after", "startup_window"):
        value = options.get(name)
        if value is not None and value < 0:
            raise CommandError(f"--{name.replace('_', '-')} must not be negative.")
    return WorkerConfig.from_settings(
        providers=providers,
        symbols=symbols,
        publish_interval=options.get("publish_interval"),
        stale_after=options.get("stale_after"),
        startup_window=options.get("startup_window"),
    )
