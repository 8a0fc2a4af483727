"""One encoder: a value prints the same in frames, events, requests and API bodies."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from portfolio.api.renderers import JSONRenderer
from streaming.delivery.messages import MessageType, WebSocketMessage
from streaming.encoding import dumps, nesting_exceeds, to_plain
from streaming.events import EventType, StreamEvent
from streaming.feeds.providers import DataSource

VALUES = {
    "big": Decimal("1E+2"),
    "tiny": Decimal("0E-8"),
    "exact": Decimal("67000.123456789012345678"),
    "neg": Decimal("-0.5"),
    "at": datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC),
    "source": DataSource.BINANCE,
    "tags": {"b", "a"},
}
EXPECTED = {
    "big": "100",
    "tiny": "0.00000000",
    "exact": "67000.123456789012345678",
    "neg": "-0.5",
    "at": "2026-01-02T03:04:05+00:00",
    "source": "binance",
    "tags": ["a", "b"],
}


def test_every_path_renders_the_same():
    assert json.loads(dumps(VALUES)) == EXPECTED
    assert to_plain(VALUES) == EXPECTED
    frame = WebSocketMessage(MessageType.STATUS, dict(VALUES)).to_json()
    assert json.loads(frame)["data"] == EXPECTED
    event = StreamEvent(EventType.SYSTEM_STATUS, dict(VALUES))
    assert json.loads(event.to_json())["data"] == EXPECTED
    assert event.to_dict()["data"] == EXPECTED
    assert json.loads(JSONRenderer().render(dict(VALUES))) == EXPECTED


def test_no_float_ever():
    text = dumps({"p": Decimal("0.1") + Decimal("0.2")})
    assert text == '{"p":"0.3"}'


@pytest.mark.parametrize(
    "text, limit, deep",
    [
        ("[" * 9 + "]" * 9, 8, True),
        ("[" * 8 + "]" * 8, 8, False),
        ('{"a": "[[[[[[[[[[[["}', 2, False),  # brackets inside a string do not count
        ('{"a": "\\"[[[["}', 2, False),  # nor after an escaped quote
        ("[" * 100_000, 16, True),
    ],
)
def test_nesting_is_judged_before_parsing(text, limit, deep):
    assert nesting_exceeds(text, limit) is deep
