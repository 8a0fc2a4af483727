"""The relay forwards the domain's events to the server without holding up the bus."""

from __future__ import annotations

import asyncio
import time

from streaming.bus import StreamEventBus
from streaming.events import EventFilter, EventType, StreamEvent
from streaming.relay import ServerRelay


class SlowServer:
    """A server whose channel layer takes 0.3 s per send (Redis far away)."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, dict]] = []

    async def _slow(self, kind: str, data: dict) -> None:
        await asyncio.sleep(0.3)
        self.sent.append((kind, data))

    async def broadcast_prices(self, prices):
        await self._slow("prices", {"prices": prices})

    async def broadcast_portfolio_update(self, data):
        await self._slow("portfolio", data)

    async def send_alert(self, data, room=None):
        await self._slow("alert", data)

    async def broadcast_system_status(self, data):
        await self._slow("system", data)


async def test_slow_sends_do_not_delay_prices_on_the_bus():
    server = SlowServer()
    relay = ServerRelay(server)
    bus = StreamEventBus()
    seen: list[float] = []
    bus.subscribe("relay", relay)
    bus.subscribe(
        "prices",
        lambda e: seen.append(time.monotonic()),
        EventFilter(event_types={EventType.PRICE_UPDATE}),
    )
    await bus.start()
    await relay.start()
    start = time.monotonic()
    for user in range(5):
        await bus.publish_portfolio_update({"user_id": user})
    await bus.publish_alert({"user_id": 1, "id": 7})
    await bus.publish_price_update("BTC", {"price": "1"})
    assert await bus.wait_idle(2)
    assert seen and seen[0] - start < 0.2  # not behind 6 × 0.3 s of sends
    async with asyncio.timeout(5):
        while len(server.sent) < 6:
            await asyncio.sleep(0.05)
    kinds = [k for k, _ in server.sent]
    assert kinds == ["portfolio"] * 5 + ["alert"]  # in publication order
    assert relay.relayed == 6 and relay.failed == 0
    await relay.stop()
    await bus.stop()


async def test_a_failing_send_is_counted_and_the_next_goes_out():
    class Broken(SlowServer):
        async def send_alert(self, data, room=None):
            raise ConnectionError("layer down")

    server = Broken()
    relay = ServerRelay(server, retry_delays=())
    assert not await relay.send(StreamEvent(EventType.ALERT_TRIGGERED, {"id": 1}))
    assert await relay.send(StreamEvent(EventType.SYSTEM_STATUS, {"ok": True}))
    assert relay.failed == 1 and relay.relayed == 1


async def test_an_alert_send_during_a_layer_blip_is_retried_until_it_goes_out():
    """Issue 19 item 11: an alert fired during a short Redis blip reached no socket."""

    class Blip(SlowServer):
        def __init__(self) -> None:
            super().__init__()
            self.calls = 0

        async def send_alert(self, data, room=None):
            self.calls += 1
            if self.calls <= 3:  # the layer is down for the first three tries
                raise ConnectionError("layer down")
            self.sent.append(("alert", data))

    server = Blip()
    relay = ServerRelay(server, retry_delays=(0.05, 0.1, 0.2, 0.4))
    start = time.monotonic()
    assert await relay.send(StreamEvent(EventType.ALERT_TRIGGERED, {"id": 9}))
    assert server.sent == [("alert", {"id": 9})]
    assert server.calls == 4 and relay.retried == 3 and relay.failed == 0
    assert time.monotonic() - start < 2


async def test_alert_retries_are_bounded_and_status_frames_are_not_retried():
    class Down(SlowServer):
        def __init__(self) -> None:
            super().__init__()
            self.alert_calls = 0
            self.status_calls = 0

        async def send_alert(self, data, room=None):
            self.alert_calls += 1
            raise ConnectionError("layer down")

        async def broadcast_system_status(self, data):
            self.status_calls += 1
            raise ConnectionError("layer down")

    server = Down()
    relay = ServerRelay(server, retry_delays=(0.01, 0.02))
    assert not await relay.send(StreamEvent(EventType.ALERT_TRIGGERED, {"id": 1}))
    assert server.alert_calls == 3  # the first try and two retries, then given up
    # A status is superseded by the next one: sent once, not retried.
    assert not await relay.send(StreamEvent(EventType.SYSTEM_STATUS, {"ok": True}))
    assert server.status_calls == 1
    assert relay.failed == 2
