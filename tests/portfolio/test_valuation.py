"""Pure valuation: exact arithmetic, P/L, allocation, missing and stale prices."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal, localcontext

from portfolio.valuation import (
    Position,
    decimal_str,
    percent_str,
    portfolio_summary,
    price_entry,
)
from tests.portfolio.helpers import price

NOW = datetime(2026, 1, 2, 12, 0, 0, tzinfo=UTC)


def summary(holdings, prices, stale_after=10):
    return portfolio_summary(
        holdings=holdings,
        prices={p["symbol"]: p for p in prices},
        now=NOW,
        stale_after=stale_after,
    )


def by_symbol(result):
    return {row["symbol"]: row for row in result["holdings"]}


def test_exact_values_and_totals():
    result = summary(
        [
            Position("BTC", Decimal("0.1"), Decimal("5000")),
            Position("ETH", Decimal("0.3"), None),
        ],
        [
            price("BTC", "65010.12", change="1010.12", now=NOW),
            price("ETH", "0.1", change="-0.2", now=NOW),
        ],
    )
    rows = by_symbol(result)
    assert rows["BTC"]["value"] == "6501.012"
    assert rows["ETH"]["value"] == "0.03"  # 0.3 * 0.1 exact, not 0.030000000000000002
    assert rows["BTC"]["change_24h"] == "101.012"
    assert rows["ETH"]["change_24h"] == "-0.06"
    assert result["totals"]["value"] == "6501.042"
    assert result["totals"]["change_24h"] == "100.952"
    # previous value = 6501.042 - 100.952 = 6400.09
    assert result["totals"]["change_percent_24h"] == percent_str(
        Decimal("100.952") * 100 / Decimal("6400.09")
    )


def test_unrealized_pl_and_percent():
    rows = by_symbol(
        summary(
            [Position("BTC", Decimal("2"), Decimal("100000"))],
            [price("BTC", "60000", now=NOW)],
        )
    )
    btc = rows["BTC"]
    assert btc["cost_basis"] == "100000"
    assert btc["unrealized_pl"] == "20000"
    assert btc["unrealized_pl_percent"] == "20.0000"


def test_totals_pl_only_over_holdings_with_cost_basis():
    result = summary(
        [
            Position("BTC", Decimal("1"), Decimal("50000")),
            Position("ETH", Decimal("1"), None),
        ],
        [price("BTC", "40000", now=NOW), price("ETH", "3000", now=NOW)],
    )
    totals = result["totals"]
    assert totals["value"] == "43000"
    assert totals["cost_basis"] == "50000"
    assert totals["unrealized_pl"] == "-10000"
    assert totals["unrealized_pl_percent"] == "-20.0000"
    assert by_symbol(result)["ETH"]["unrealized_pl"] is None


def test_allocation_sums_to_100():
    result = summary(
        [Position("BTC", Decimal("1")), Position("ETH", Decimal("1"))],
        [price("BTC", "3", now=NOW), price("ETH", "1", now=NOW)],
    )
    rows = by_symbol(result)
    assert rows["BTC"]["allocation_percent"] == "75.0000"
    assert rows["ETH"]["allocation_percent"] == "25.0000"


def test_missing_price_is_listed_and_left_out_of_totals():
    result = summary(
        [Position("BTC", Decimal("1")), Position("NOPE", Decimal("5"), Decimal("10"))],
        [price("BTC", "100", now=NOW)],
    )
    rows = by_symbol(result)
    assert rows["NOPE"]["price"] is None
    assert rows["NOPE"]["value"] is None
    assert rows["NOPE"]["allocation_percent"] is None
    assert rows["NOPE"]["unrealized_pl"] is None
    assert result["unpriced"] == ["NOPE"]
    totals = result["totals"]
    assert totals["value"] == "100"
    assert totals["priced_count"] == 1
    assert totals["unpriced_count"] == 1
    assert totals["cost_basis"] is None
    assert rows["BTC"]["allocation_percent"] == "100.0000"


def test_no_holdings():
    result = summary([], [])
    assert result["totals"]["value"] == "0"
    assert result["holdings"] == []
    assert result["totals"]["change_24h"] is None


def test_stale_age_source_and_simulated():
    result = summary(
        [Position("BTC", Decimal("1")), Position("ETH", Decimal("1"))],
        [
            price("BTC", "100", age=30, now=NOW, source="mock"),
            price("ETH", "100", age=2.5, now=NOW, source="coinbase"),
        ],
    )
    rows = by_symbol(result)
    assert rows["BTC"]["stale"] is True
    assert rows["BTC"]["simulated"] is True
    assert rows["BTC"]["age_seconds"] == "30.000"
    assert rows["ETH"]["stale"] is False
    assert rows["ETH"]["simulated"] is False
    assert rows["ETH"]["source"] == "coinbase"
    assert rows["ETH"]["price_timestamp"].startswith("2026-01-02T11:59:57.5")
    assert result["totals"]["stale_count"] == 1


def test_unparseable_timestamp_is_stale():
    p = price("BTC", "1", now=NOW)
    p["timestamp"] = "yesterday"
    row = by_symbol(summary([Position("BTC", Decimal("1"))], [p]))["BTC"]
    assert row["stale"] is True and row["age_seconds"] is None


def test_wide_amounts_never_round():
    amount = Decimal("999999999999999.123456789012345678")
    row = by_symbol(
        summary([Position("BTC", amount)], [price("BTC", "65010.123456789", now=NOW)])
    )["BTC"]
    with localcontext(prec=100):
        exact = amount * Decimal("65010.123456789")
    assert len(exact.as_tuple().digits) > 28  # more than the default precision
    assert row["value"] == format(exact, "f")


def test_accepts_mappings_and_model_like_objects():
    result = summary(
        [{"symbol": "BTC", "amount": "2", "cost_basis": None}],
        [price("BTC", "1.5", now=NOW)],
    )
    assert result["totals"]["value"] == "3"


def test_json_output_has_no_floats_or_exponents():
    import json

    result = summary(
        [Position("BTC", Decimal("1000"))], [price("BTC", "1E+3", now=NOW)]
    )
    text = json.dumps(result)
    assert "E+" not in text and "e+" not in text
    assert by_symbol(result)["BTC"]["value"] == "1000000"


def test_format_helpers():
    assert decimal_str(Decimal("1E+3")) == "1000"
    assert decimal_str(Decimal("0.500")) == "0.5"
    assert decimal_str(Decimal("-0")) == "0"
    assert percent_str(Decimal("-0.00001")) == "0.0000"
    assert percent_str(Decimal("12.34565")) == "12.3456"


def test_price_entry_unpriced_and_priced():
    assert price_entry("XRP", None, now=NOW, stale_after=10)["price"] is None
    entry = price_entry(
        "BTC", price("BTC", "1.50", change_pct="2.5", now=NOW), now=NOW, stale_after=10
    )
    assert entry["price"] == "1.5"
    assert entry["change_percent_24h"] == "2.5000"
    assert entry["stale"] is False


def test_parse_decimal_is_exact_and_forgiving():
    from portfolio.valuation import parse_decimal

    assert parse_decimal("0.1") == Decimal("0.1")
    assert parse_decimal(2.5) == Decimal("2.5")
    assert parse_decimal(0.1) == Decimal("0.1")  # repr, not binary expansion
    assert parse_decimal("NaN") is None
    assert parse_decimal("abc") is None
    assert parse_decimal(True) is None
    assert parse_decimal(None) is None


def test_the_bus_price_shape_values_the_same_as_the_cached_text():
    """The worker's monitors hold PriceUpdate.as_data() (Decimal, datetime);
    the summary must be the same JSON-safe text as from a cached price."""
    from datetime import timedelta

    from streaming.feeds.base import DataSource, PriceUpdate

    update = PriceUpdate(
        "BTC",
        Decimal("1E+2"),
        NOW - timedelta(seconds=2),
        change_24h=Decimal("-1.5"),
        change_percent_24h=Decimal("-1.48"),
        source=DataSource.BINANCE,
        quote="USDT",
    )
    holdings = [Position("BTC", Decimal("2"))]
    typed = summary(holdings, [update.as_data()])
    text = summary(holdings, [update.to_dict()])
    assert typed == text
    row = by_symbol(typed)["BTC"]
    assert row["price_timestamp"] == "2026-01-02T11:59:58+00:00"
    assert row["value"] == "200" and row["age_seconds"] == "2.000"
