"""The live worker's composition root: build the pieces, wire them, own their life.

One price's way (see docs/architecture.md)::

    exchange socket → StreamConnection (owned by the one StreamManager)
      → feed parser → PriceFeedManager (choice, failover) → StreamEventBus
        prio 10  ConflatingPublisher → price cache + WebSocketServer
        prio  5  AlertJob (pure pre-check; database only on a crossing)
        prio  1  PortfolioJob → PORTFOLIO_UPDATE → bus → ServerRelay
      ALERT_TRIGGERED / SYSTEM_STATUS → bus → ServerRelay → WebSocketServer
      ALERT_TRIGGERED → DeliveryJob (wakes; sends the committed outbox rows)

Each job lives in a module of its own and knows nothing of this wiring. One
worker runs per deployment (``run_feeds``, or inside ``serve`` embedded); with
Redis a leader lock keeps a second one on standby.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from django.conf import settings

from streaming import metrics
from streaming.bus import StreamEventBus
from streaming.delivery.server import WebSocketServer
from streaming.events import EventFilter, EventType
from streaming.feeds.base import BasePriceFeed
from streaming.feeds.factory import default_feed_factory
from streaming.feeds.listings import default_registry
from streaming.feeds.manager import PriceFeedManager
from streaming.feeds.providers import PriceFeedProvider
from streaming.manager import StreamManager
from streaming.publisher import ConflatingPublisher
from streaming.relay import Broadcaster, ServerRelay, price_sink

from ..alerts import AlertEngine
from .alert_jobs import AlertJob
from .config import WorkerConfig
from .deliveries import DeliveryJob
from .holdings import HoldingsJob
from .portfolios import PortfolioJob
from .snapshots import SnapshotJob
from .status import StatusJob

logger = logging.getLogger(__name__)

__all__ = ["FeedWorker"]

PRICES = EventFilter(event_types={EventType.PRICE_UPDATE})
CONNECTION = EventFilter(event_types={EventType.CONNECTION_STATUS})
ALERTS = EventFilter(event_types={EventType.ALERT_TRIGGERED})


class FeedWorker:
    """Builds feeds, bus, publisher, relay and jobs; runs them until stopped."""

    def __init__(self, config: WorkerConfig, server: Broadcaster | None = None) -> None:
        self.config = config
        # Without a running server (the run_feeds worker) the WebSocketServer
        # publishes straight into the channel layer for the daphne processes.
        self.server = server if server is not None else WebSocketServer()
        self.started = asyncio.Event()
        self._runs = 0
        self._build()

    def _build(self) -> None:
        """Fresh pieces for one term as leader (a re-taken lock starts anew)."""
        config, server = self.config, self.server
        self.streams = StreamManager()
        self.bus = StreamEventBus()
        self.engine = AlertEngine()
        self.feeds = PriceFeedManager(
            stale_after=config.stale_after,
            feed_factory=self._feed_for,
            stream_manager=self.streams,
            event_bus=self.bus,
            simulate_after=config.startup_window,
            mock_interval=config.mock_interval,
        )
        self.publisher = ConflatingPublisher(
            price_sink(server), config.publish_interval
        )
        self.relay = ServerRelay(server)
        self.alerts = AlertJob(self.bus, self.engine)
        self.portfolios = PortfolioJob(
            self.bus,
            interval=config.publish_interval,
            stale_after=config.stale_after,
            on_total=self.alerts.check_total,
        )
        self.holdings = HoldingsJob(
            interval=config.refresh_interval,
            fixed_symbols=config.symbols,
            watch_symbols=config.watch_symbols,
            set_positions=self.portfolios.set_positions,
            reload_rules=self.alerts.reload_rules,
        )
        self.snapshots = SnapshotJob(
            self.portfolios.totals, interval=config.snapshot_interval
        )
        self.status = StatusJob(
            self.bus, self.feeds, self.publisher, interval=config.status_interval
        )
        self.deliveries = DeliveryJob.from_settings()
        self.tasks: list[asyncio.Task[Any]] = []

    # -- wiring ----------------------------------------------------------------
    def _feed_for(
        self,
        provider: PriceFeedProvider,
        symbols: list[str],
        stream_manager: StreamManager | None = None,
    ) -> BasePriceFeed:
        if provider is PriceFeedProvider.MOCK:
            options: dict[str, Any] = {
                "update_interval": self.config.mock_interval,
                "listed": default_registry().listed_anywhere,
            }
        else:
            options = {
                "url": self.config.urls.get(provider),
                "data_timeout": self.config.data_timeout,
                "max_reconnect_delay": self.config.max_reconnect_delay,
            }
        return default_feed_factory(provider, symbols, stream_manager, **options)

    def _subscribe(self) -> None:
        bus = self.bus
        bus.subscribe("publisher", self.publisher, PRICES, priority=10)
        bus.subscribe("price-alerts", self.alerts.handle_price, PRICES, priority=5)
        bus.subscribe("portfolios", self.portfolios.handle_price, PRICES, priority=1)
        bus.subscribe("status", self.status.handle_connection_event, CONNECTION)
        bus.subscribe("relay", self.relay)
        bus.subscribe("deliveries", self.deliveries.wake, ALERTS)

    # -- lifecycle ---------------------------------------------------------------
    async def run(self, stop: asyncio.Event) -> None:
        """Run until ``stop`` is set (as leader; as standby first when locked).

        A lost lock (Redis unreachable past the expiry) stops publishing, since
        a standby may hold it now, and goes back to standby: the worker never
        returns on its own, so a Redis outage of any length is ridden out.
        """
        if not self.config.use_lock:
            await self._lead(stop, None)
            return
        from streaming.leader import LeaderLock

        lock = LeaderLock(
            settings.REDIS_URL,
            f"{settings.CHANNEL_LAYER_PREFIX}:run_feeds:leader",
            self.config.lock_ttl,
        )
        try:
            while await lock.acquire(stop):
                logger.info("Holding the worker lock; publishing prices.")
                await self._lead(stop, lock)
                await lock.release()
                if not stop.is_set():
                    logger.warning("Waiting to re-take the worker lock.")
        finally:
            await lock.close()

    async def _lead(self, stop: asyncio.Event, lock: Any) -> None:
        """Publish until ``stop`` is set or the lock slips away."""
        if self._runs:
            self._build()
        self._runs += 1
        try:
            await self.start()
            waiters = [asyncio.ensure_future(stop.wait())]
            if lock is not None:
                waiters.append(asyncio.ensure_future(lock.lost.wait()))
            await asyncio.wait(waiters, return_when=asyncio.FIRST_COMPLETED)
            for waiter in waiters:
                waiter.cancel()
        finally:
            await self.stop()

    async def start(self) -> None:
        self._subscribe()
        await self.bus.start()
        try:
            await self.holdings.refresh(force=True)
        except Exception:  # noqa: BLE001 - database down at start: retried by the job
            logger.warning(
                "Database unavailable at start; holdings load when it is back.",
                exc_info=True,
            )
        for index, provider in enumerate(self.config.providers):
            self.feeds.add_provider(
                provider, sorted(self.holdings.symbols), is_primary=index == 0
            )
        self.holdings.feeds = self.feeds
        await self.streams.start()
        await self.publisher.start()
        await self.relay.start()
        await self.feeds.start()
        self.holdings.install_signal_hooks()
        metrics.register_worker(self.streams, self.bus, lambda: self.alerts.triggered)
        loop = asyncio.get_running_loop()
        for coro, name in (
            (self.holdings.run(), "worker-refresh"),
            (self.portfolios.run(), "worker-portfolio"),
            (self.alerts.run(), "worker-alerts"),
            (self.snapshots.run(), "worker-snapshots"),
            (self.status.run(), "worker-status"),
            (self.deliveries.run(), "worker-deliveries"),
        ):
            self.tasks.append(loop.create_task(coro, name=name))
        logger.info(
            "Feed worker started: providers %s, %d symbols (%s)",
            ",".join(p.value for p in self.config.providers),
            len(self.holdings.symbols),
            ",".join(sorted(self.holdings.symbols)),
        )
        self.started.set()

    async def stop(self) -> None:
        """Stop everything; each step bounded so a stuck part cannot hang shutdown."""
        metrics.unregister_worker()
        for task in self.tasks:
            task.cancel()
        await _bounded(asyncio.gather(*self.tasks, return_exceptions=True), "jobs")
        self.tasks.clear()
        await _bounded(self.deliveries.aclose(), "delivery job")
        await _bounded(self.feeds.stop(), "feed manager")
        await _bounded(self.streams.stop(), "stream manager")
        await _bounded(self.publisher.stop(), "publisher")
        await _bounded(self.relay.stop(), "relay")
        await _bounded(self.status.stop(), "status job")
        await _bounded(self.bus.stop(), "event bus")
        self.holdings.remove_signal_hooks()
        self.started.clear()
        logger.info("Feed worker stopped.")


async def _bounded(awaitable: Any, what: str, timeout: float = 5.0) -> None:
    try:
        await asyncio.wait_for(awaitable, timeout)
    except TimeoutError:
        logger.warning("Stopping the %s took over %.0f s; abandoned.", what, timeout)
