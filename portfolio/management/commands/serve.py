"""`manage.py serve`: the embedded mode's single process (daphne on this app)."""

from __future__ import annotations

import logging

from django.core.management.base import BaseCommand, CommandParser

logger = logging.getLogger(__name__)


class Command(BaseCommand):
    help = (
        "Serve the app with daphne on HOST:PORT. Embedded mode: the price feeds "
        "run in this same process unless --no-feeds is given."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--host", default="127.0.0.1", help="Address to bind.")
        parser.add_argument("--port", type=int, default=8000, help="Port to bind.")

    def handle(self, *args, host: str, port: int, **options) -> None:
        # daphne.server installs Twisted's asyncio reactor; import it first.
        from daphne.endpoints import build_endpoint_description_strings
        from daphne.server import Server

        from portfolio_site.asgi import application

        endpoints = build_endpoint_description_strings(host=host, port=port)
        self.stdout.write(f"Serving on http://{host}:{port}/ (Ctrl-C to stop)")
        Server(application=application, endpoints=endpoints).run()
