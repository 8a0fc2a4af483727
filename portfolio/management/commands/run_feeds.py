"""`manage.py run_feeds`: the scale-out feed worker."""

from __future__ import annotations

import asyncio

from django.core.management.base import BaseCommand, CommandParser

from portfolio.runner import run_worker

from ._options import add_feed_arguments, config_from_options


class Command(BaseCommand):
    help = (
        "Stream prices from the exchanges (Binance primary, Coinbase fallback by "
        "default), keep every user's portfolio and alerts live, and publish into "
        "the channel layer for the daphne servers. With REDIS_URL set, a second "
        "worker waits as standby (Redis lock). Stops cleanly on SIGINT/SIGTERM."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        add_feed_arguments(parser)

    def handle(self, *args, **options) -> None:
        config = config_from_options(options)
        self.stdout.write(
            "Starting feeds: " + ",".join(p.value for p in config.providers)
        )
        asyncio.run(run_worker(config))
        self.stdout.write("Feed worker stopped.")
