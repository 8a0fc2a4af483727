"""Events, filters and the EventHandler base."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal

from streaming.events import EventFilter, EventHandler, EventType, StreamEvent


def event(
    event_type: EventType = EventType.PRICE_UPDATE,
    symbol: str | None = "BTC",
    source: str | None = "binance",
) -> StreamEvent:
    data = {"symbol": symbol} if symbol else {}
    return StreamEvent(event_type, data, source=source)


def test_event_type_values() -> None:
    assert [e.value for e in EventType] == [
        "price_update",
        "portfolio_update",
        "alert_triggered",
        "system_status",
        "connection_status",
        "error",
    ]


def test_event_id_generated_only_when_missing() -> None:
    generated = event()
    assert generated.event_id is not None and generated.event_id.count("-") == 1
    assert generated.event_id != event().event_id
    assert StreamEvent(EventType.ERROR, {}, event_id="given").event_id == "given"
    assert generated.timestamp.tzinfo is UTC


def test_to_dict_and_to_json_are_exact() -> None:
    when = datetime(2026, 1, 2, 3, 4, 5, 123456, tzinfo=UTC)
    ev = StreamEvent(
        EventType.PRICE_UPDATE,
        {
            "symbol": "BTC",
            "price": Decimal("67000.123456789012345"),
            "at": when,
            "levels": [Decimal("1.10"), {"q": Decimal("0E-8")}],
        },
        timestamp=when,
        source="binance",
        event_id="e1",
        correlation_id="c1",
    )
    expected = {
        "event_type": "price_update",
        "data": {
            "symbol": "BTC",
            "price": "67000.123456789012345",
            "at": "2026-01-02T03:04:05.123456+00:00",
            "levels": ["1.10", {"q": "0.00000000"}],  # one encoder: fixed-point
        },
        "timestamp": "2026-01-02T03:04:05.123456+00:00",
        "source": "binance",
        "event_id": "e1",
        "correlation_id": "c1",
    }
    assert ev.to_dict() == expected
    assert json.loads(ev.to_json()) == expected
    assert isinstance(ev.data["price"], Decimal)  # the event itself is untouched


def test_empty_filter_matches_everything() -> None:
    f = EventFilter()
    assert f.matches(event())
    assert f.matches(event(EventType.ERROR, symbol=None, source=None))


def test_filter_by_event_type() -> None:
    f = EventFilter(event_types={EventType.ALERT_TRIGGERED})
    assert f.matches(event(EventType.ALERT_TRIGGERED))
    assert not f.matches(event(EventType.PRICE_UPDATE))


def test_filter_by_source() -> None:
    f = EventFilter(sources={"coinbase"})
    assert f.matches(event(source="coinbase"))
    assert not f.matches(event(source="binance"))
    assert not f.matches(event(source=None))


def test_filter_by_symbol() -> None:
    f = EventFilter(symbols={"ETH", "SOL"})
    assert f.matches(event(symbol="ETH"))
    assert not f.matches(event(symbol="BTC"))
    assert not f.matches(event(symbol=None))


def test_filter_custom_and_combined() -> None:
    f = EventFilter(
        event_types={EventType.PRICE_UPDATE},
        symbols={"BTC"},
        custom_filter=lambda e: e.source == "binance",
    )
    assert f.matches(event())
    assert not f.matches(event(source="coinbase"))
    assert not f.matches(event(EventType.ERROR))


def test_event_handler_default_supports_all_types() -> None:
    class Handler(EventHandler):
        async def handle_event(self, event: StreamEvent) -> bool:
            return True

    assert Handler().get_supported_event_types() == set(EventType)
