"""The feed worker: exchange feeds → event bus → browsers, monitors and alerts.

One instance runs per deployment (``run_feeds``, or inside ``serve`` in the
embedded mode). With Redis, a :class:`~streaming.leader.LeaderLock` keeps a
second worker on standby so prices are never published twice.

Per chosen price (hot path): the feed manager hands a ``PriceUpdate``; it is
turned into a dict once and put on the bus. Bus subscribers: the conflating
publisher (newest price per symbol, batched) and the price-alert pre-check
(database only on a crossing). Per published batch: latest-price cache,
one channel-layer frame per room, and the affected users' monitors, whose
summaries go out at most once per interval per user.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from asgiref.sync import sync_to_async
from django.conf import settings
from django.db import close_old_connections

from streaming import price_cache
from streaming.bus import StreamEventBus
from streaming.events import EventFilter, EventType, StreamEvent
from streaming.feeds.base import BasePriceFeed, PriceFeedProvider, PriceUpdate
from streaming.feeds.manager import PriceFeedManager
from streaming.feeds.mock import MockPriceFeed
from streaming.feeds.symbols import is_supported
from streaming.publisher import ConflatingPublisher
from streaming.delivery.server import WebSocketServer

from . import selectors
from .alerts import AlertEngine
from .models import Alert, PortfolioSnapshot
from .monitor import PortfolioMonitor

logger = logging.getLogger(__name__)

STATUS_CACHE_KEY = "streams-status"
REAL_PROVIDERS = (PriceFeedProvider.BINANCE, PriceFeedProvider.COINBASE)


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
            urls={
                PriceFeedProvider.BINANCE: settings.BINANCE_WS_URL,
                PriceFeedProvider.COINBASE: settings.COINBASE_WS_URL,
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


class FeedWorker:
    """Runs feeds, publishes prices, keeps per-user monitors and fires alerts."""

    def __init__(self, config: WorkerConfig, publisher: WebSocketServer | None = None):
        self.config = config
        self.server = publisher or WebSocketServer()
        self.bus = StreamEventBus()
        self.manager: PriceFeedManager | None = None
        self.publisher = ConflatingPublisher(
            self._publish_batch, config.publish_interval
        )
        self.engine = AlertEngine()
        self.monitors: dict[int, PortfolioMonitor] = {}
        self.users_by_symbol: dict[str, set[int]] = defaultdict(set)
        self.symbols: set[str] = set()
        self.unsupported: dict[str, list[str]] = {}
        self.mock: MockPriceFeed | None = None
        self.mock_retired = False
        self.real_seen = False
        self.message: str | None = None
        self._dirty_users: set[int] = set()
        self._alert_queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue(maxsize=10000)
        self._holdings_fp: tuple | None = None
        self._rules_fp: tuple | None = None
        self._refresh_now = asyncio.Event()
        self._tasks: list[asyncio.Task[Any]] = []
        self._published_minute = 0
        self.started = asyncio.Event()

    # -- lifecycle ------------------------------------------------------------------
    async def run(self, stop: asyncio.Event) -> None:
        """Run until ``stop`` is set (as leader; as standby first when locked)."""
        lock = None
        if self.config.use_lock:
            from streaming.leader import LeaderLock

            lock = LeaderLock(
                settings.REDIS_URL,
                f"{settings.CHANNEL_LAYER_PREFIX}:run_feeds:leader",
                self.config.lock_ttl,
            )
            if not await lock.acquire(stop):
                await lock.close()
                return
            logger.info("Holding the worker lock; publishing prices.")
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
            if lock is not None:
                await lock.close()

    async def start(self) -> None:
        await self.bus.start()
        self.bus.subscribe(
            "publisher",
            self._on_price_event,
            EventFilter(event_types={EventType.PRICE_UPDATE}),
            priority=10,
        )
        self.bus.subscribe(
            "price-alerts",
            self._precheck_alerts,
            EventFilter(event_types={EventType.PRICE_UPDATE}),
            priority=5,
        )
        self.symbols = set(self.config.symbols or self.config.watch_symbols)
        try:
            await self._refresh(force=True)
        except Exception:  # noqa: BLE001 - database down at start: retried by the loop
            logger.warning(
                "Database unavailable at start; holdings load when it is back.",
                exc_info=True,
            )
        self.manager = self._build_manager()
        await self.publisher.start()
        await self.manager.start()
        self._install_signal_hooks()
        loop = asyncio.get_running_loop()
        for coro, name in (
            (self._refresh_loop(), "worker-refresh"),
            (self._portfolio_loop(), "worker-portfolio"),
            (self._alert_loop(), "worker-alerts"),
            (self._snapshot_loop(), "worker-snapshots"),
            (self._status_loop(), "worker-status"),
            (self._startup_fallback(), "worker-fallback"),
        ):
            self._tasks.append(loop.create_task(coro, name=name))
        logger.info(
            "Feed worker started: providers %s, %d symbols (%s)",
            ",".join(p.value for p in self.config.providers),
            len(self.symbols),
            ",".join(sorted(self.symbols)),
        )
        self.started.set()

    async def stop(self) -> None:
        """Stop everything; each step bounded so a stuck part cannot hang shutdown."""
        for task in self._tasks:
            task.cancel()
        await _bounded(asyncio.gather(*self._tasks, return_exceptions=True), "tasks")
        self._tasks.clear()
        if self.mock is not None:
            await _bounded(self.mock.stop(), "mock feed")
        if self.manager is not None:
            await _bounded(self.manager.stop(), "feed manager")
        await _bounded(self.publisher.stop(), "publisher")
        await _bounded(self.bus.stop(), "event bus")
        self._remove_signal_hooks()
        logger.info("Feed worker stopped.")

    # -- feeds ----------------------------------------------------------------------
    def _feed_for(
        self, provider: PriceFeedProvider, symbols: list[str]
    ) -> BasePriceFeed:
        if provider is PriceFeedProvider.BINANCE:
            from streaming.feeds.binance import BinancePriceFeed

            return BinancePriceFeed(symbols, url=self.config.urls[provider])
        if provider is PriceFeedProvider.COINBASE:
            from streaming.feeds.coinbase import CoinbasePriceFeed

            return CoinbasePriceFeed(symbols, url=self.config.urls[provider])
        return MockPriceFeed(symbols, update_interval=self.config.mock_interval)

    def _build_manager(self) -> PriceFeedManager:
        manager = PriceFeedManager(
            stale_after=self.config.stale_after, feed_factory=self._feed_for
        )
        for index, provider in enumerate(self.config.providers):
            symbols = self._supported(provider, self.symbols)
            manager.add_provider(provider, symbols, is_primary=index == 0)
        manager.add_handler(self._on_chosen)
        manager.add_status_handler(self._on_feed_event)
        return manager

    def _supported(self, provider: PriceFeedProvider, symbols: set[str]) -> list[str]:
        ok = sorted(s for s in symbols if is_supported(provider, s))
        missing = sorted(symbols - set(ok))
        if missing:
            self.unsupported[provider.value] = missing
            logger.warning(
                "%s does not list %s; not subscribed there.",
                provider.value,
                ",".join(missing),
            )
        else:
            self.unsupported.pop(provider.value, None)
        return ok

    async def _on_chosen(self, update: PriceUpdate) -> None:
        """Hot path: the manager's chosen price for a symbol."""
        if update.source.value != "mock" and not self.real_seen:
            self.real_seen = True
            if self.mock is not None:
                await self._retire_mock()
        await self.bus.publish(
            StreamEvent(
                EventType.PRICE_UPDATE,
                update.to_dict(),
                update.timestamp,
                source=update.source.value,
            )
        )

    async def _on_mock(self, update: PriceUpdate) -> None:
        if not self.mock_retired:
            await self._on_chosen(update)

    def _on_price_event(self, event: StreamEvent) -> None:
        self.publisher.offer(event.data)

    async def _startup_fallback(self) -> None:
        """No real price within the start-up window (offline?): simulated prices."""
        if not any(p in REAL_PROVIDERS for p in self.config.providers):
            return
        await asyncio.sleep(self.config.startup_window)
        if self.real_seen:
            return
        self.message = (
            f"No exchange delivered a price within {self.config.startup_window:g} s "
            "(offline?). Showing SIMULATED prices until a real exchange delivers."
        )
        logger.warning("%s", self.message)
        self.mock = MockPriceFeed(
            sorted(self.symbols), update_interval=self.config.mock_interval
        )
        self.mock.add_handler(self._on_mock)
        await self.mock.start()
        await self._broadcast_status()

    async def _retire_mock(self) -> None:
        mock, self.mock = self.mock, None
        self.mock_retired = True
        self.message = "A real exchange is delivering prices; simulated prices stopped."
        logger.warning("%s", self.message)
        if mock is not None:
            await mock.stop()
        await self._broadcast_status()

    # -- publishing -------------------------------------------------------------------
    async def _publish_batch(self, batch: list[dict[str, Any]]) -> None:
        await price_cache.astore_prices({p["symbol"]: p for p in batch})
        await self.server.broadcast_prices(batch)
        self._published_minute += len(batch)
        by_symbol = self.users_by_symbol
        touched: set[int] = set()
        for price in batch:
            users = by_symbol.get(price["symbol"])
            if users:
                touched.update(users)
        for user_id in touched:
            monitor = self.monitors.get(user_id)
            if monitor is not None:
                monitor.on_prices(batch)

    async def _portfolio_loop(self) -> None:
        interval = self.config.publish_interval
        while True:
            await asyncio.sleep(interval)
            if not self._dirty_users:
                continue
            users, self._dirty_users = self._dirty_users, set()
            for user_id in users:
                monitor = self.monitors.get(user_id)
                if monitor is None:
                    continue
                summary = monitor.get_holdings_summary()
                try:
                    await self.server.broadcast_portfolio_update(
                        {**summary, "user_id": user_id}
                    )
                except Exception:  # noqa: BLE001 - layer down: next update will do
                    logger.warning(
                        "portfolio update for user %s failed", user_id, exc_info=True
                    )
                total = complete_total(summary)
                if total is not None and self.engine.portfolio_may_fire(
                    user_id, Decimal(total)
                ):
                    self._queue_alert({"user_id": user_id, "total": Decimal(total)})

    def _monitor_changed(self, user_id: int) -> Any:
        def handler(summary: dict[str, Any]) -> None:
            self._dirty_users.add(user_id)

        return handler

    # -- alerts --------------------------------------------------------------------------
    def _precheck_alerts(self, event: StreamEvent) -> None:
        if self.engine.price_may_fire(event.data):
            self._queue_alert({"price": event.data})

    def _queue_alert(self, job: dict[str, Any]) -> None:
        try:
            self._alert_queue.put_nowait(job)
        except asyncio.QueueFull:
            logger.error("alert queue full; crossing will be re-detected on next tick")

    async def _alert_loop(self) -> None:
        while True:
            job = await self._alert_queue.get()
            try:
                alerts = await sync_to_async(self._evaluate, thread_sensitive=True)(job)
            except Exception:  # noqa: BLE001 - DB down: state unchanged, retried later
                logger.warning(
                    "alert evaluation failed; will retry on the next value",
                    exc_info=True,
                )
                await asyncio.sleep(1.0)
                continue
            for alert_data in alerts:
                try:
                    await self.server.send_alert(alert_data)
                except Exception:  # noqa: BLE001 - stored; delivered on next connect
                    logger.warning(
                        "alert %s stored but not delivered live",
                        alert_data.get("id"),
                        exc_info=True,
                    )

    def _evaluate(self, job: dict[str, Any]) -> list[dict[str, Any]]:
        close_old_connections()
        if "price" in job:
            fired = self.engine.evaluate_price(job["price"])
        else:
            fired = self.engine.evaluate_portfolio(job["user_id"], job["total"])
        return [alert_payload(alert) for alert in fired]

    # -- holdings, rules and symbols -------------------------------------------------------
    async def _refresh_loop(self) -> None:
        while True:
            try:
                await asyncio.wait_for(
                    self._refresh_now.wait(), self.config.refresh_interval
                )
            except TimeoutError:
                pass
            self._refresh_now.clear()
            try:
                await self._refresh()
            except Exception:  # noqa: BLE001 - DB briefly down: try again later
                logger.warning("refreshing holdings/rules failed", exc_info=True)

    async def _refresh(self, force: bool = False) -> None:
        holdings_fp, rules_fp = await sync_to_async(_fingerprints)()
        if force or holdings_fp != self._holdings_fp:
            positions = await sync_to_async(_positions)()
            self._holdings_fp = holdings_fp
            self._apply_positions(positions)
        if force or rules_fp != self._rules_fp:
            count = await sync_to_async(self._reload_rules)()
            self._rules_fp = rules_fp
            logger.info("Alert rules loaded: %d enabled", count)

    def _reload_rules(self) -> int:
        close_old_connections()
        return self.engine.reload()

    def _apply_positions(self, positions: dict[int, dict[str, tuple]]) -> None:
        for user_id in list(self.monitors):
            if user_id not in positions:
                del self.monitors[user_id]
        self.users_by_symbol = defaultdict(set)
        for user_id, holdings in positions.items():
            monitor = self.monitors.get(user_id)
            if monitor is None:
                monitor = PortfolioMonitor(stale_after=self.config.stale_after)
                monitor.add_value_change_handler(self._monitor_changed(user_id))
                self.monitors[user_id] = monitor
                prices = price_cache.get_prices(holdings)
                if prices:
                    monitor.on_prices(list(prices.values()))
            monitor.set_holdings(holdings)
            for symbol in holdings:
                self.users_by_symbol[symbol].add(user_id)
        if self.config.symbols is not None:
            wanted = set(self.config.symbols)
        else:
            wanted = set(self.config.watch_symbols) | set(self.users_by_symbol)
        self._set_symbols(wanted)

    def _set_symbols(self, wanted: set[str]) -> None:
        added, removed = wanted - self.symbols, self.symbols - wanted
        self.symbols = wanted
        if self.manager is None or not (added or removed):
            return
        for provider in self.config.providers:
            self._supported(provider, wanted)
        for symbol in sorted(added):
            self.manager.add_symbol(symbol)
            if self.mock is not None:
                self.mock.add_symbol(symbol)
        for symbol in sorted(removed):
            self.manager.remove_symbol(symbol)
            if self.mock is not None:
                self.mock.remove_symbol(symbol)
        logger.info(
            "Symbols now %s (+%s -%s)",
            ",".join(sorted(wanted)),
            ",".join(sorted(added)) or "none",
            ",".join(sorted(removed)) or "none",
        )

    def _install_signal_hooks(self) -> None:
        """Holdings/rules saved in this process wake the refresh at once."""
        from django.db.models.signals import post_delete, post_save

        from .models import AlertRule, Holding

        loop = asyncio.get_running_loop()

        def poke(**kwargs: Any) -> None:
            loop.call_soon_threadsafe(self._refresh_now.set)

        self._poke = poke
        for model in (Holding, AlertRule):
            post_save.connect(poke, sender=model, weak=False)
            post_delete.connect(poke, sender=model, weak=False)

    def _remove_signal_hooks(self) -> None:
        from django.db.models.signals import post_delete, post_save

        from .models import AlertRule, Holding

        poke = getattr(self, "_poke", None)
        if poke is None:
            return
        for model in (Holding, AlertRule):
            post_save.disconnect(poke, sender=model)
            post_delete.disconnect(poke, sender=model)

    # -- snapshots and status -----------------------------------------------------------
    async def _snapshot_loop(self) -> None:
        while True:
            await asyncio.sleep(self.config.snapshot_interval)
            rows = []
            now = datetime.now(UTC)
            for user_id, monitor in list(self.monitors.items()):
                total = complete_total(monitor.get_holdings_summary())
                if total is not None:
                    rows.append(
                        PortfolioSnapshot(
                            owner_id=user_id, total_value=Decimal(total), taken_at=now
                        )
                    )
            if rows:
                try:
                    await sync_to_async(_bulk_create)(rows)
                except Exception:  # noqa: BLE001
                    logger.warning(
                        "writing %d snapshots failed", len(rows), exc_info=True
                    )

    def _on_feed_event(self, event: dict[str, Any]) -> None:
        logger.info("Feed event: %s", event)
        asyncio.ensure_future(self._broadcast_status(event))

    def status(self) -> dict[str, Any]:
        manager = self.manager
        symbol_status = manager.get_symbol_status() if manager else {}
        return {
            "providers": manager.get_provider_status() if manager else {},
            "serving": {
                s: (
                    "mock"
                    if self.mock is not None and not info.get("source")
                    else info.get("source")
                )
                for s, info in symbol_status.items()
            },
            "symbols": symbol_status,
            "stale_symbols": manager.get_stale_symbols() if manager else [],
            "unsupported": self.unsupported,
            "mock_active": self.mock is not None,
            "message": self.message,
            "bus": self.bus.get_bus_stats(),
            "publisher": {
                "offered": self.publisher.offered,
                "published": self.publisher.published,
                "conflated": self.publisher.replaced,
                "batches": self.publisher.batches,
            },
            "updated_at": datetime.now(UTC).isoformat(),
        }

    async def _broadcast_status(self, event: dict[str, Any] | None = None) -> None:
        status = self.status()
        if event is not None:
            status["event"] = event
        try:
            from django.core.cache import cache

            await cache.aset(STATUS_CACHE_KEY, status, 3600)
            await self.server.broadcast_system_status(status)
        except Exception:  # noqa: BLE001
            logger.warning("status broadcast failed", exc_info=True)

    async def _status_loop(self) -> None:
        last_log = time.monotonic()
        while True:
            await asyncio.sleep(self.config.status_interval)
            await self._broadcast_status()
            if time.monotonic() - last_log >= 60:
                providers = self.manager.get_provider_status() if self.manager else {}
                connected = [
                    n for n, s in providers.items() if s.get("status") == "connected"
                ]
                logger.info(
                    "Last minute: %d price updates published; connected: %s%s",
                    self._published_minute,
                    ",".join(connected) or "none",
                    " (SIMULATED prices active)" if self.mock is not None else "",
                )
                self._published_minute = 0
                last_log = time.monotonic()


async def _bounded(awaitable: Any, what: str, timeout: float = 5.0) -> None:
    try:
        await asyncio.wait_for(awaitable, timeout)
    except TimeoutError:
        logger.warning("Stopping the %s took over %.0f s; abandoned.", what, timeout)


def complete_total(summary: dict[str, Any]) -> str | None:
    """The total value only when every holding is priced.

    A partial total (some holdings without a price yet) must neither fire a
    portfolio alert nor enter the value history as a dip.
    """
    totals = summary["totals"]
    if not totals["priced_count"] or totals["unpriced_count"]:
        return None
    return totals["value"]


def _fingerprints() -> tuple[tuple, tuple]:
    close_old_connections()
    return selectors.holdings_fingerprint(), selectors.alert_rules_fingerprint()


def _positions() -> dict[int, dict[str, tuple]]:
    close_old_connections()
    return selectors.positions_by_owner()


def _bulk_create(rows: list[PortfolioSnapshot]) -> None:
    close_old_connections()
    PortfolioSnapshot.objects.bulk_create(rows)


def alert_payload(alert: Alert) -> dict[str, Any]:
    """The ALERT frame's data: the REST representation plus the owner's id."""
    from .api.serializers import AlertSerializer

    return {**AlertSerializer(alert).data, "user_id": alert.owner_id}
