"""The feed worker end to end through the real channel layer and database."""

from __future__ import annotations

import asyncio
import json
import time
from decimal import Decimal

import pytest
from asgiref.sync import sync_to_async

from portfolio import services
from portfolio.live.config import WorkerConfig, parse_providers
from portfolio.live.worker import FeedWorker
from portfolio.models import Alert, AlertKind, PortfolioSnapshot
from streaming.feeds.base import PriceFeedProvider

pytestmark = [pytest.mark.django_db(transaction=True)]


def config(**overrides) -> WorkerConfig:
    base = WorkerConfig(
        providers=[PriceFeedProvider.MOCK],
        watch_symbols=["BTC"],
        publish_interval=0.1,
        stale_after=5,
        startup_window=0,
        snapshot_interval=0.5,
        refresh_interval=0.2,
        status_interval=0.3,
        mock_interval=0.1,
    )
    for key, value in overrides.items():
        setattr(base, key, value)
    return base


async def receive_until(comm, predicate, timeout=10.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        frame = await comm.receive_json_from(
            timeout=max(0.05, deadline - time.monotonic())
        )
        if predicate(frame):
            return frame
    raise AssertionError("expected frame did not arrive")


@pytest.fixture
async def worker(connection_manager):
    stop = asyncio.Event()
    running = []

    async def start(**overrides):
        w = FeedWorker(config(**overrides))
        task = asyncio.create_task(w.run(stop))
        await asyncio.wait_for(w.started.wait(), 10)
        running.append(task)
        return w

    yield start
    stop.set()
    await asyncio.gather(*running)


def test_parse_providers():
    assert parse_providers("binance, Coinbase") == [
        PriceFeedProvider.BINANCE,
        PriceFeedProvider.COINBASE,
    ]
    assert parse_providers("kraken") == [PriceFeedProvider.KRAKEN]
    assert parse_providers("binance,kraken,coinbase") == [
        PriceFeedProvider.BINANCE,
        PriceFeedProvider.KRAKEN,
        PriceFeedProvider.COINBASE,
    ]
    with pytest.raises(ValueError, match="Unknown price feed 'bitstamp'"):
        parse_providers("bitstamp")


def test_config_from_settings_with_kraken(settings):
    settings.PRICE_FEEDS = ["binance", "kraken", "coinbase"]
    settings.KRAKEN_WS_URL = "ws://127.0.0.1:9445/v2"
    config = WorkerConfig.from_settings()
    assert config.providers[1] is PriceFeedProvider.KRAKEN
    assert config.urls[PriceFeedProvider.KRAKEN] == "ws://127.0.0.1:9445/v2"


async def test_prices_reach_a_client_labelled_mock(worker, ws_connect):
    comm = await ws_connect()
    await comm.send_json_to({"action": "subscribe", "rooms": ["prices.BTC", "system"]})
    await worker()
    frame = await receive_until(comm, lambda f: f["type"] == "price_update")
    (btc,) = frame["data"]["prices"]
    assert btc["symbol"] == "BTC" and btc["source"] == "mock"
    Decimal(btc["price"])  # an exact decimal string
    status = await receive_until(comm, lambda f: f["type"] == "system_status")
    assert "mock" in status["data"]["providers"]
    await comm.disconnect()


async def test_holding_change_reaches_the_portfolio_frame(worker, ws_connect, user):
    comm = await ws_connect(user)
    await worker()
    await sync_to_async(services.holding_create)(
        owner=user, symbol="ETH", amount=Decimal("2")
    )
    frame = await receive_until(
        comm,
        lambda f: (
            f["type"] == "portfolio_update"
            and any(h["symbol"] == "ETH" and h["price"] for h in f["data"]["holdings"])
        ),
    )
    (eth,) = frame["data"]["holdings"]
    assert Decimal(eth["value"]) == Decimal(eth["price"]) * 2
    assert eth["source"] == "mock" and eth["simulated"] is True
    assert frame["data"]["totals"]["simulated"] is True
    assert frame["data"]["totals"]["sources"] == {"mock": 1}
    assert frame["room"] == f"portfolio.{user.pk}"
    await comm.disconnect()


async def test_snapshots_written(worker, user):
    await sync_to_async(services.holding_create)(
        owner=user, symbol="BTC", amount=Decimal("1")
    )
    await worker()
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        count = await PortfolioSnapshot.objects.filter(owner=user).acount()
        if count:
            break
        await asyncio.sleep(0.1)
    snapshot = await PortfolioSnapshot.objects.filter(owner=user).afirst()
    assert snapshot is not None and snapshot.total_value > 0


async def test_alert_stored_then_delivered_then_on_reconnect_then_acked(
    worker, ws_connect, user
):
    comm = await ws_connect(user)
    rule = await sync_to_async(services.alert_rule_create)(
        owner=user,
        kind=AlertKind.PRICE_ABOVE,
        symbol="BTC",
        threshold=Decimal("1"),
    )
    await worker()
    live = await receive_until(comm, lambda f: f["type"] == "alert")
    stored = await Alert.objects.aget(pk=live["data"]["id"])
    assert stored.rule_id == rule.pk and stored.acknowledged_at is None
    assert live["room"] == f"alerts.{user.pk}"
    # provenance in the frame: the worker's only feed is the simulation
    assert live["data"]["source"] == "mock" and live["data"]["simulated"] is True
    assert "SIMULATED" in live["data"]["message"] and stored.simulated
    await comm.disconnect()

    # A browser that was closed sees the unacknowledged alert on connect.
    again = await ws_connect(user)
    missed = await receive_until(again, lambda f: f["type"] == "alert")
    assert missed["data"]["id"] == stored.pk
    # Stays quiet while the price stays above: still one alert.
    await asyncio.sleep(0.5)
    assert await Alert.objects.filter(rule=rule).acount() == 1

    await again.send_to(
        text_data=json.dumps({"action": "ack", "alert_ids": [stored.pk]})
    )
    ack = await receive_until(again, lambda f: f["data"].get("event") == "ack")
    assert ack["data"]["acknowledged"] == 1
    await stored.arefresh_from_db()
    assert stored.acknowledged_at is not None
    await again.disconnect()


async def test_ack_refuses_bad_ids_and_other_users_alerts(
    connection_manager, ws_connect, user, other_user
):
    rule = await sync_to_async(services.alert_rule_create)(
        owner=user,
        kind=AlertKind.PRICE_ABOVE,
        symbol="BTC",
        threshold=Decimal("1"),
    )
    alert = await Alert.objects.acreate(
        rule=rule,
        owner=user,
        kind=rule.kind,
        symbol="BTC",
        threshold=Decimal("1"),
        message="m",
        observed_value=Decimal("2"),
        triggered_at="2026-01-01T00:00Z",
    )
    bob = await ws_connect(other_user)
    await bob.send_json_to({"action": "ack", "alert_ids": "all"})
    assert (await bob.receive_json_from(timeout=5))["type"] == "error"
    await bob.send_json_to({"action": "ack", "alert_ids": [alert.pk]})
    reply = await bob.receive_json_from(timeout=5)
    assert reply["data"]["acknowledged"] == 0
    await alert.arefresh_from_db()
    assert alert.acknowledged_at is None
    await bob.disconnect()
    anon = await ws_connect()
    await anon.send_json_to({"action": "ack", "alert_ids": [alert.pk]})
    assert (await anon.receive_json_from(timeout=5))["data"]["code"] == "forbidden"
    await anon.disconnect()


async def test_offline_start_falls_back_to_mock(worker, ws_connect, unused_tcp_port):
    comm = await ws_connect()
    await comm.send_json_to({"action": "subscribe", "rooms": ["prices", "system"]})
    w = await worker(
        providers=[PriceFeedProvider.BINANCE],
        startup_window=0.3,
        urls={PriceFeedProvider.BINANCE: f"ws://127.0.0.1:{unused_tcp_port}/stream"},
    )
    frame = await receive_until(comm, lambda f: f["type"] == "price_update")
    assert {p["source"] for p in frame["data"]["prices"]} == {"mock"}
    status = await receive_until(
        comm, lambda f: f["type"] == "system_status" and f["data"]["mock_active"]
    )
    assert "SIMULATED" in status["data"]["message"]
    assert w.feeds.simulation.active
    await comm.disconnect()


async def test_offline_then_live_exchange_replaces_mock_for_good(worker, ws_connect):
    from devtools import FakeBinance

    fake = FakeBinance(["BTC"])
    await fake.start()
    port = fake.port
    await fake.stop()  # offline at start
    comm = await ws_connect()
    await comm.send_json_to({"action": "subscribe", "rooms": ["prices", "system"]})
    w = await worker(
        providers=[PriceFeedProvider.BINANCE],
        startup_window=0.3,
        urls={PriceFeedProvider.BINANCE: f"ws://127.0.0.1:{port}"},
    )
    await receive_until(
        comm,
        lambda f: (
            f["type"] == "price_update" and f["data"]["prices"][0]["source"] == "mock"
        ),
    )
    await fake.start()  # the exchange comes back on the same port
    try:
        await fake.wait_clients(1, timeout=15)
        await fake.emit("BTC", price=Decimal("70000.01"))
        live = await receive_until(
            comm,
            lambda f: (
                f["type"] == "price_update"
                and f["data"]["prices"][0]["source"] == "binance"
            ),
            timeout=15,
        )
        assert Decimal(live["data"]["prices"][0]["price"]) == Decimal("70000.01")
        assert not w.feeds.simulation.active and w.feeds.simulation.retired
        status = await receive_until(
            comm,
            lambda f: f["type"] == "system_status" and not f["data"]["mock_active"],
        )
        assert "simulated prices stopped" in status["data"]["message"]
        # No simulated price after the real one.
        await asyncio.sleep(0.5)
        while not await comm.receive_nothing(timeout=0.05):
            frame = await comm.receive_json_from()
            if frame["type"] == "price_update":
                assert {p["source"] for p in frame["data"]["prices"]} == {"binance"}
    finally:
        await comm.disconnect()
        await fake.close()


async def test_kraken_only_worker_delivers_exact_kraken_prices(worker, ws_connect):
    from devtools import FakeKraken

    async with FakeKraken(["BTC"], heartbeat_interval=0.2) as fake:
        comm = await ws_connect()
        await comm.send_json_to({"action": "subscribe", "rooms": ["prices.BTC"]})
        try:
            w = await worker(
                providers=[PriceFeedProvider.KRAKEN],
                startup_window=5,
                urls={PriceFeedProvider.KRAKEN: fake.endpoint},
            )
            await fake.wait_clients(1, timeout=5)
            await fake.emit("BTC", price=Decimal("97123.456789012345"))
            frame = await receive_until(
                comm,
                lambda f: (
                    f["type"] == "price_update"
                    and f["data"]["prices"][0]["price"] == "97123.456789012345"
                ),
            )
            (btc,) = frame["data"]["prices"]
            assert btc["symbol"] == "BTC" and btc["source"] == "kraken"
            assert not w.feeds.simulation.active
        finally:
            await comm.disconnect()


def test_partial_totals_neither_alert_nor_snapshot():
    from portfolio.live.portfolios import complete_total

    def summary(priced, unpriced, value="5"):
        return {
            "totals": {
                "priced_count": priced,
                "unpriced_count": unpriced,
                "value": value,
            }
        }

    assert complete_total(summary(2, 0)) == "5"
    assert complete_total(summary(1, 1)) is None
    assert complete_total(summary(0, 0, "0")) is None


async def test_a_repeated_price_sends_no_second_identical_summary():
    from portfolio.live.portfolios import PortfolioJob
    from streaming.bus import StreamEventBus
    from streaming.events import EventType, StreamEvent

    bus = StreamEventBus()
    published: list[dict] = []
    bus.subscribe("spy", lambda e: published.append(e.data))
    await bus.start()
    job = PortfolioJob(bus, interval=60, stale_after=60, on_total=lambda *a: None)
    job.set_positions({7: {"BTC": (Decimal("2"), None)}})

    def price(value: str) -> StreamEvent:
        from datetime import UTC, datetime

        data = {"symbol": "BTC", "price": value, "source": "binance"}
        data["timestamp"] = datetime.now(UTC).isoformat()
        return StreamEvent(EventType.PRICE_UPDATE, data)

    job.handle_price(price("100.5"))
    await job.publish_dirty()
    job.handle_price(price("100.5"))  # same price, newer timestamp
    await job.publish_dirty()
    job.handle_price(price("101"))
    await job.publish_dirty()
    assert await bus.wait_idle(2)
    values = [Decimal(p["totals"]["value"]) for p in published]
    assert values == [Decimal("201"), Decimal("202")]  # no repeat of 201
    assert all(p["user_id"] == 7 for p in published)
    await bus.stop()
