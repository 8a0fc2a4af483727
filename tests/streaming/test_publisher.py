"""Conflation: newest price per symbol, at most once per interval, batched."""

from __future__ import annotations

import asyncio

from streaming.publisher import ConflatingPublisher


def price(symbol: str, value: str) -> dict:
    return {"symbol": symbol, "price": value}


async def test_first_price_goes_out_at_once_and_bursts_are_conflated():
    batches: list[list[dict]] = []

    async def sink(batch):
        batches.append(batch)

    publisher = ConflatingPublisher(sink, interval=0.2)
    await publisher.start()
    try:
        publisher.offer(price("BTC", "1"))
        await asyncio.sleep(0.05)
        assert batches == [[price("BTC", "1")]]  # leading edge: no waiting
        for value in ("2", "3", "4"):
            publisher.offer(price("BTC", value))
        publisher.offer(price("ETH", "10"))
        await asyncio.sleep(0.05)
        # ETH was never sent, so it leaves at once; BTC waits for its interval.
        assert batches[1] == [price("ETH", "10")]
        await asyncio.sleep(0.25)
        assert batches[2] == [price("BTC", "4")]  # only the newest BTC
        assert publisher.replaced == 2
        assert publisher.published == 3
    finally:
        await publisher.stop()


async def test_symbols_due_together_share_one_batch():
    batches: list[list[dict]] = []

    async def sink(batch):
        batches.append(batch)

    publisher = ConflatingPublisher(sink, interval=0.1)
    await publisher.start()
    try:
        for symbol in ("A1", "B1", "C1"):
            publisher.offer(price(symbol, "1"))
        await asyncio.sleep(0.05)
        assert len(batches) == 1 and [p["symbol"] for p in batches[0]] == [
            "A1",
            "B1",
            "C1",
        ]
    finally:
        await publisher.stop()


async def test_sink_failure_is_counted_and_publishing_continues():
    calls = []

    async def sink(batch):
        calls.append(batch)
        if len(calls) == 1:
            raise RuntimeError("layer down")

    publisher = ConflatingPublisher(sink, interval=0.05)
    await publisher.start()
    try:
        publisher.offer(price("BTC", "1"))
        await asyncio.sleep(0.03)
        publisher.offer(price("ETH", "2"))
        await asyncio.sleep(0.1)
        assert publisher.sink_errors == 1
        assert calls[-1] == [price("ETH", "2")]
    finally:
        await publisher.stop()
    assert not [t for t in asyncio.all_tasks() if t.get_name() == "price-publisher"]


async def test_the_bus_data_keeps_decimals_and_the_sink_gets_exact_text():
    """PRICE_UPDATE data is the PriceUpdate's own values (no per-tick formatting);
    what leaves through the sink is JSON-safe text, exactly as to_dict gives."""
    from datetime import UTC, datetime
    from decimal import Decimal

    from streaming.bus import StreamEventBus
    from streaming.events import EventFilter, EventType
    from streaming.feeds.base import DataSource, PriceUpdate
    from streaming.feeds.manager import PriceFeedManager
    from streaming.feeds.mock import MockPriceFeed

    batches: list[list[dict]] = []
    seen = []

    async def sink(batch):
        batches.append(batch)

    bus = StreamEventBus()
    await bus.start()
    publisher = ConflatingPublisher(sink, interval=0.05)
    await publisher.start()
    prices = EventFilter(event_types={EventType.PRICE_UPDATE})
    bus.subscribe("publisher", publisher, prices, priority=10)
    bus.subscribe("seen", lambda event: seen.append(event.data), prices)
    feed = MockPriceFeed(["BTC"])
    manager = PriceFeedManager(event_bus=bus)
    manager.add_feed(feed, is_primary=True)
    update = PriceUpdate(
        "BTC",
        Decimal("1E+2"),
        datetime(2026, 12, 7, 12, 0, 0, 123000, tzinfo=UTC),
        Decimal("0.00000001"),
        Decimal("-1.5"),
        Decimal("0.0100"),
        DataSource.BINANCE,
        "USDT",
    )
    try:
        feed._set_status(feed.status.CONNECTED)
        await feed.dispatch(update)
        assert await bus.wait_idle(5)
        for _ in range(100):
            if batches:
                break
            await asyncio.sleep(0.01)
    finally:
        await publisher.stop()
        await manager.stop()
        await bus.stop()
    assert [d["price"] for d in seen] == [Decimal("1E+2")]
    assert type(seen[0]["timestamp"]) is datetime
    assert batches == [[update.to_dict()]]
    assert batches[0][0]["price"] == "100"  # exact fixed-point text, never 1E+2
    assert batches[0][0]["timestamp"] == "2026-12-07T12:00:00.123000+00:00"


async def _published(batches: list, count: int, within: float = 3.0) -> bool:
    """Wait (bounded) until ``count`` batches arrived."""
    for _ in range(int(within / 0.01)):
        if len(batches) >= count:
            return True
        await asyncio.sleep(0.01)
    return len(batches) >= count


async def test_changes_within_the_burst_leave_at_once_one_frame_each():
    """Jitter or a few symbols in a row must not wait for the batch gap.

    The gap here is 60 s: a change that had to wait for it would never arrive
    within the bounded wait below.
    """
    batches: list[list[dict]] = []

    async def sink(batch):
        batches.append(batch)

    publisher = ConflatingPublisher(sink, interval=0.01, batch_gap=60, burst=3)
    await publisher.start()
    try:
        for i, symbol in enumerate(("A1", "B1", "C1"), start=1):
            publisher.offer(price(symbol, "1"))
            assert await _published(batches, i), f"{symbol} waited"
        assert [b[0]["symbol"] for b in batches] == ["A1", "B1", "C1"]
        # The budget is spent: the next change waits for the gap, and the ones
        # after it join the same frame.
        publisher.offer(price("D1", "1"))
        publisher_waits = not await _published(batches, 4, within=0.3)
        publisher.offer(price("E1", "1"))
        assert publisher_waits
        await publisher.flush()
        assert sorted(p["symbol"] for p in batches[-1]) == ["D1", "E1"]
    finally:
        await publisher.stop()


async def test_a_sustained_stream_shares_frames_within_the_budget():
    """120 symbols, each on its own leading edge, over ~0.25 s: frames stay
    within burst + elapsed / gap, and every price is published once."""
    batches: list[list[dict]] = []

    async def sink(batch):
        batches.append(batch)

    gap = 0.05
    publisher = ConflatingPublisher(sink, interval=0.01, batch_gap=gap, burst=2)
    await publisher.start()
    loop = asyncio.get_running_loop()
    started = loop.time()
    try:
        for i in range(120):
            publisher.offer(price(f"S{i}", "1"))
            await asyncio.sleep(0.002)
        await publisher.flush()
        elapsed = loop.time() - started
    finally:
        await publisher.stop()
    published = [p["symbol"] for b in batches for p in b]
    assert sorted(published) == sorted(f"S{i}" for i in range(120))
    assert len(batches) <= 2 + elapsed / gap + 1  # + the final flush
