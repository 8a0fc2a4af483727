"""StreamEventBus: ordering, filtering, backpressure, history, stats, shutdown."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from decimal import Decimal

import pytest

from streaming.bus import StreamEventBus
from streaming.events import EventFilter, EventHandler, EventType, StreamEvent

pytestmark = pytest.mark.timeout(10)


@pytest.fixture
async def bus() -> AsyncIterator[StreamEventBus]:
    bus = StreamEventBus(max_queue_size=100, max_history_size=5)
    await bus.start()
    yield bus
    await bus.stop()


async def test_priority_order_descending_and_stable(bus: StreamEventBus) -> None:
    order: list[str] = []

    async def async_handler(event: StreamEvent) -> None:
        order.append("async-5")

    assert bus.subscribe("low", lambda e: order.append("low"), priority=-1)
    assert bus.subscribe("mid-a", lambda e: order.append("mid-a"))
    assert bus.subscribe("high", lambda e: order.append("high"), priority=10)
    assert bus.subscribe("mid-b", lambda e: order.append("mid-b"))
    assert bus.subscribe("five", async_handler, priority=5)
    assert bus.subscribe("high", lambda e: None) is False  # duplicate id
    await bus.publish_price_update("BTC", {"price": Decimal("1")})
    assert await bus.wait_idle(2)
    assert order == ["high", "async-5", "mid-a", "mid-b", "low"]


async def test_each_filter_kind_routes_events(bus: StreamEventBus) -> None:
    got: dict[str, list[str]] = {k: [] for k in ("all", "type", "src", "sym", "cus")}

    def rec(key: str) -> Callable[[StreamEvent], None]:
        return lambda e: got[key].append(e.event_id)

    bus.subscribe("all", rec("all"))
    bus.subscribe("type", rec("type"), EventFilter(event_types={EventType.ERROR}))
    bus.subscribe("src", rec("src"), EventFilter(sources={"coinbase"}))
    bus.subscribe("sym", rec("sym"), EventFilter(symbols={"ETH"}))
    bus.subscribe(
        "cus", rec("cus"), EventFilter(custom_filter=lambda e: "urgent" in e.data)
    )
    events = [
        StreamEvent(EventType.ERROR, {}, event_id="err"),
        StreamEvent(
            EventType.PRICE_UPDATE, {"symbol": "BTC"}, source="coinbase", event_id="cb"
        ),
        StreamEvent(EventType.PRICE_UPDATE, {"symbol": "ETH"}, event_id="eth"),
        StreamEvent(EventType.ALERT_TRIGGERED, {"urgent": True}, event_id="urg"),
    ]
    for ev in events:
        assert await bus.publish(ev)
    assert await bus.wait_idle(2)
    assert got == {
        "all": ["err", "cb", "eth", "urg"],
        "type": ["err"],
        "src": ["cb"],
        "sym": ["eth"],
        "cus": ["urg"],
    }


async def test_event_handler_subclass_and_supported_types(
    bus: StreamEventBus,
) -> None:
    class Alerts(EventHandler):
        def __init__(self) -> None:
            self.seen: list[EventType] = []

        async def handle_event(self, event: StreamEvent) -> bool:
            self.seen.append(event.event_type)
            return True

        def get_supported_event_types(self) -> set[EventType]:
            return {EventType.ALERT_TRIGGERED}

    class Refuses(EventHandler):
        async def handle_event(self, event: StreamEvent) -> bool:
            return False

    alerts = Alerts()
    bus.subscribe("alerts", alerts)
    bus.subscribe("refuses", Refuses())
    await bus.publish_alert({"rule": 1})
    await bus.publish_portfolio_update({"value": "10"})
    assert await bus.wait_idle(2)
    assert alerts.seen == [EventType.ALERT_TRIGGERED]
    assert bus.get_bus_stats()["handler_errors"] == 2  # two refusals


async def test_failing_handler_isolated_and_counted(bus: StreamEventBus) -> None:
    got: list[str] = []

    def broken(event: StreamEvent) -> None:
        raise RuntimeError("boom")

    async def broken_async(event: StreamEvent) -> None:
        raise ValueError("boom")

    bus.subscribe("broken", broken, priority=2)
    bus.subscribe("broken-async", broken_async, priority=1)
    bus.subscribe("ok", lambda e: got.append(e.data["symbol"]))
    await bus.publish_price_update("BTC", {})
    await bus.publish_price_update("ETH", {})
    assert await bus.wait_idle(2)
    assert got == ["BTC", "ETH"]
    stats = bus.get_bus_stats()
    assert stats["handler_errors"] == 4
    assert stats["events_processed"] == 2


async def test_full_queue_returns_false_without_blocking() -> None:
    bus = StreamEventBus(max_queue_size=3, max_history_size=10)  # not started
    results = [await bus.publish_alert({"n": n}) for n in range(5)]
    assert results == [True, True, True, False, False]
    stats = bus.get_bus_stats()
    assert stats["events_published"] == 3
    assert stats["events_dropped"] == 2
    assert stats["queue_size"] == 3
    delivered: list[int] = []
    bus.subscribe("s", lambda e: delivered.append(e.data["n"]))
    await bus.start()
    assert await bus.wait_idle(2)
    assert delivered == [0, 1, 2]
    await bus.stop()


async def test_history_and_stats_exact(bus: StreamEventBus) -> None:
    bus.subscribe("s", lambda e: None)
    data = {"price": Decimal("1.50")}
    for n in range(4):
        await bus.publish_price_update(f"S{n}", data)
    for n in range(3):
        await bus.publish_alert({"n": n})
    assert "symbol" not in data  # caller's dict not mutated
    assert await bus.wait_idle(2)

    recent = bus.get_recent_events()
    assert len(recent) == 5  # ring buffer of max_history_size
    assert [e["event_type"] for e in recent] == [
        "alert_triggered",
        "alert_triggered",
        "alert_triggered",
        "price_update",
        "price_update",
    ]
    assert [e["data"]["n"] for e in recent[:3]] == [2, 1, 0]
    prices = bus.get_recent_events(limit=10, event_type=EventType.PRICE_UPDATE)
    assert [e["data"]["symbol"] for e in prices] == ["S3", "S2"]
    assert prices[0]["data"]["price"] == "1.50"
    assert len(bus.get_recent_events(limit=2)) == 2

    assert bus.get_bus_stats() == {
        "events_published": 7,
        "events_processed": 7,
        "events_dropped": 0,
        "handler_errors": 0,
        "queue_size": 0,
        "max_queue_size": 100,
        "subscribers": 1,
        "history_size": 5,
        "running": True,
    }


async def test_unsubscribe(bus: StreamEventBus) -> None:
    got: list[str] = []
    bus.subscribe("s", lambda e: got.append("x"))
    assert bus.unsubscribe("s") is True
    assert bus.unsubscribe("s") is False
    await bus.publish_alert({})
    assert await bus.wait_idle(2)
    assert got == []


async def test_stop_clears_subscriptions_and_leaves_no_task() -> None:
    before = asyncio.all_tasks()
    bus = StreamEventBus()
    await bus.start()
    await bus.start()  # idempotent: still one dispatcher
    assert len(asyncio.all_tasks() - before) == 1
    bus.subscribe("a", lambda e: None)
    bus.subscribe("b", lambda e: None)
    await bus.publish_alert({})
    await bus.stop()
    stats = bus.get_bus_stats()
    assert stats["subscribers"] == 0
    assert stats["running"] is False
    assert asyncio.all_tasks() - before == set()
