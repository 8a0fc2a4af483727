"""Async entry points behind the thin ``run_feeds`` and ``serve`` commands."""

from __future__ import annotations

import asyncio
import logging
import signal

from streaming.delivery.server import WebSocketServer

from .live.config import WorkerConfig
from .live.worker import FeedWorker

logger = logging.getLogger(__name__)

WORKER_STOP_TIMEOUT = 30.0  # seconds the worker may take to stop on a signal


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
            await _run_on(server.loop, FeedWorker(config, server=server), stop)
    finally:
        await server.stop()
    logger.info("Stopped cleanly.")


async def _run_on(
    loop: asyncio.AbstractEventLoop | None, worker: FeedWorker, stop: asyncio.Event
) -> None:
    """Run the worker on daphne's own event loop until ``stop`` (set on this one).

    One loop for the feeds and the sockets: a price batch reaches the hub
    without crossing threads, and the worker and daphne do not take turns at
    the GIL while a frame is written to a thousand sockets.
    """
    if loop is None:
        await worker.run(stop)
        return
    worker_stop = asyncio.Event()  # used on daphne's loop only
    running = asyncio.wrap_future(
        asyncio.run_coroutine_threadsafe(worker.run(worker_stop), loop)
    )
    stopping = asyncio.ensure_future(stop.wait())
    await asyncio.wait({running, stopping}, return_when=asyncio.FIRST_COMPLETED)
    stopping.cancel()
    if not running.done():
        loop.call_soon_threadsafe(worker_stop.set)
        # Bounded: a loop that died with daphne would never run the stop.
        await asyncio.wait({running}, timeout=WORKER_STOP_TIMEOUT)
        if not running.done():
            logger.warning("The feed worker did not stop; stopping the server.")
            return
    await running  # a worker that failed fails the command, as before
