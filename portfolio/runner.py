"""Async entry points behind the thin ``run_feeds`` and ``serve`` commands."""

from __future__ import annotations

import asyncio
import logging
import signal

from streaming.delivery.server import WebSocketServer

from .live.config import WorkerConfig
from .live.worker import FeedWorker

logger = logging.getLogger(__name__)


def _stop_on_signals(stop: asyncio.Event) -> None:
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        try:
            loop.add_signal_handler(sig, stop.set)
        except (
            NotImplementedError,
            RuntimeError,
        ):  # pragma: no cover - not main thread
            pass


async def run_worker(config: WorkerConfig, metrics_port: int | None = None) -> None:
    """The scale-out worker: feeds → channel layer, until SIGINT/SIGTERM.

    With ``metrics_port`` the worker's Prometheus metrics are served on
    127.0.0.1 only (loopback, like ``/metrics`` without a token).
    """
    stop = asyncio.Event()
    _stop_on_signals(stop)
    if metrics_port is not None:
        from prometheus_client import start_http_server

        from streaming.metrics import REGISTRY

        start_http_server(metrics_port, addr="127.0.0.1", registry=REGISTRY)
        logger.info("Metrics on http://127.0.0.1:%d/metrics", metrics_port)
    worker = FeedWorker(config)
    await worker.run(stop)


async def serve(host: str, port: int, config: WorkerConfig | None) -> None:
    """The embedded mode: daphne and (unless ``config`` is None) the feeds in one."""
    stop = asyncio.Event()
    _stop_on_signals(stop)
    # Imported here: loading the ASGI app sets Django up and builds the routing,
    # which only the serving process needs.
    from portfolio_site.asgi import application

    server = WebSocketServer(host, port, application=application)
    await server.start()
    print(f"Serving on http://{host}:{server.port}/ (Ctrl-C to stop)", flush=True)
    try:
        if config is None:
            await stop.wait()
        else:
            await FeedWorker(config, server=server).run(stop)
    finally:
        await server.stop()
    logger.info("Stopped cleanly.")
