"""The ledger value history, hand-checked: value, net invested, performance."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal as D

from portfolio.ledger.history import slot_opens, summarize, value_history
from portfolio.ledger.lots import Entry

DAY = timedelta(days=1)
D0 = datetime(2024, 1, 1, tzinfo=UTC)


def at(day: int, hour: int) -> datetime:
    return D0 + day * DAY + timedelta(hours=hour)


def closes(values: dict[str, list[str | None]]):
    return {
        symbol: {D0 + i * DAY: (D(v), "binance") for i, v in enumerate(row) if v}
        for symbol, row in values.items()
    }


CLOSES = closes(
    {
        "BTC": ["100", "110", "90", "120", None, "130"],
        "ETH": ["10", "11", "12", "13", "14", "15"],
    }
)
ENTRIES = [
    Entry("transfer_in", "BTC", D("1"), at(0, 10), seq=1),  # valued at D0's close
    Entry("buy", "BTC", D("0.5"), at(1, 9), price=D("108"), fee=D("1"), seq=2),
    Entry("buy", "ETH", D("10"), at(2, 12), price=D("11.5"), fee=D("0.5"), seq=3),
    Entry("sell", "BTC", D("0.25"), at(3, 8), price=D("118"), fee=D("0.5"), seq=4),
    Entry("transfer_out", "ETH", D("2"), at(5, 1), seq=5),  # valued at D5's close
]


def day_close(entry: Entry) -> D | None:
    day = entry.executed_at.replace(hour=0, minute=0)
    found = CLOSES[entry.symbol].get(day)
    return found[0] if found else None


def test_six_days_by_hand():
    opens = slot_opens(D0, D0 + 6 * DAY + timedelta(hours=3), DAY)
    assert opens == [D0 + i * DAY for i in range(6)]
    points = value_history(
        ENTRIES, CLOSES, opens=opens, step=DAY, transfer_price=day_close
    )
    got = [(p.timestamp, p.value, p.net_invested, p.performance) for p in points]
    assert got == [
        (D0 + 1 * DAY, D("100"), D("100"), D("0")),  # 1 BTC arrived: not a gain
        (D0 + 2 * DAY, D("165.0"), D("155"), D("10.0")),  # the buy is not a gain
        (D0 + 3 * DAY, D("255.0"), D("270.5"), D("-15.5")),
        (D0 + 4 * DAY, D("280.00"), D("241.5"), D("38.50")),  # sold 0.25 at 118
        (D0 + 5 * DAY, None, D("241.5"), None),  # no BTC close: a gap
        (D0 + 6 * DAY, D("282.50"), D("211.5"), D("71.00")),
    ]
    assert points[4].missing == ("BTC",) and points[4].source is None
    assert {p.source for p in points if p.value is not None} == {"binance"}
    summary = summarize(points)
    assert (summary.value_start, summary.value_end) == (D("100"), D("282.50"))
    assert summary.net_flows == D("111.5")
    assert summary.performance == D("71.00")


def test_many_decimals_exact():
    entries = [
        Entry(
            "buy", "BTC", D("0.123456789012345678"), at(0, 1), price=D("30000.5"), seq=1
        )
    ]
    points = value_history(entries, closes({"BTC": ["31000.25"]}), opens=[D0], step=DAY)
    (point,) = points
    assert point.value == D("3827.19132357996910441950")
    assert point.net_invested == D("3703.7653987648765128390")
    assert point.performance == D("123.42592481509259158050")


def test_before_and_after_entries():
    """Entries at a slot's close belong to the next slot; an empty ledger is 0."""
    entries = [Entry("buy", "BTC", D("2"), D0 + DAY, price=D("5"), seq=1)]
    points = value_history(
        entries, closes({"BTC": ["7", "8"]}), opens=[D0, D0 + DAY], step=DAY
    )
    assert [(p.value, p.net_invested, p.source) for p in points] == [
        (D("0"), D("0"), "ledger"),
        (D("16"), D("10"), "binance"),
    ]


def test_unpriced_transfer_without_close_makes_performance_unknown():
    entries = [Entry("transfer_in", "BTC", D("1"), at(0, 1), seq=1)]
    points = value_history(entries, closes({"BTC": ["7"]}), opens=[D0], step=DAY)
    assert (points[0].value, points[0].net_invested, points[0].performance) == (
        D("7"),
        None,
        None,
    )
    assert summarize(points).performance is None


def test_no_market_data_at_all():
    points = value_history(ENTRIES, {}, opens=[D0, D0 + DAY], step=DAY)
    assert all(p.value is None and p.missing == ("BTC",) for p in points)
    assert summarize(points) is None


def test_hourly_slots_exclude_the_open_hour():
    now = datetime(2024, 3, 1, 10, 30, tzinfo=UTC)
    opens = slot_opens(now - timedelta(hours=24), now, timedelta(hours=1))
    assert len(opens) == 24
    assert opens[-1] == datetime(2024, 3, 1, 9, tzinfo=UTC)
