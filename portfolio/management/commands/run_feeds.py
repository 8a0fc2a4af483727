"""`manage.py run_feeds`: the scale-out feed worker."""

from __future__ import annotations

import asyncio
import gc

from django.core.management.base import BaseCommand, CommandError, CommandParser

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
        parser.add_argument(
            "--metrics-port",
            type=int,
            help="Serve this worker's Prometheus metrics on 127.0.0.1:PORT/metrics.",
        )

    def handle(self, *args, **options) -> None:
        config = config_from_options(options)
        port = options.get("metrics_port")
        if port is not None and not 0 < port < 65536:
            raise CommandError("--metrics-port must be between 1 and 65535.")
        self.stdout.write(
            "Starting feeds: " + ",".join(p.value for p in config.providers)
        )
        # The start-up objects (Django, the apps) live as long as the process:
        # frozen, a full garbage collection no longer scans them (~70 ms with
        # the loop stopped, prices waiting); portfolio_site/asgi.py does the same.
        gc.freeze()
        asyncio.run(run_worker(config, metrics_port=port))
        self.stdout.write("Feed worker stopped.")
