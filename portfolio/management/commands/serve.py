"""`manage.py serve`: the embedded mode's single process (daphne + feeds)."""

from __future__ import annotations

import asyncio

from django.core.management.base import BaseCommand, CommandError, CommandParser

from portfolio.runner import serve
from streaming.exceptions import ConfigurationError

from ._options import add_feed_arguments, config_from_options


class Command(BaseCommand):
    help = (
        "Serve the app with daphne on HOST:PORT and run the price feeds in this "
        "same process (embedded mode), unless --no-feeds is given."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--host", default="127.0.0.1", help="Address to bind.")
        parser.add_argument("--port", type=int, default=8000, help="Port to bind.")
        parser.add_argument(
            "--no-feeds",
            action="store_true",
            help="Serve only (a separate run_feeds worker publishes prices).",
        )
        add_feed_arguments(parser)

    def handle(self, *args, host: str, port: int, no_feeds: bool, **options) -> None:
        config = None if no_feeds else config_from_options(options)
        try:
            asyncio.run(serve(host, port, config))
        except ConfigurationError as exc:
            # Exit non-zero at once, saying which port and how to pick another.
            raise CommandError(
                f"Port {port} on {host} is not available ({exc}). Is another "
                f"server using port {port}? Choose another: PORT={port + 1} make run "
                f"(or manage.py serve --port {port + 1})."
            ) from exc
