"""The lots engine against hand-checked sequences (exact expected lots and P/L)."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal as D

import pytest

from portfolio.ledger import lots
from portfolio.ledger.lots import Entry


def at(month: int, day: int = 1, year: int = 2024) -> datetime:
    return datetime(year, month, day, tzinfo=UTC)


def e(kind, amount, when, price=None, fee="0", total=None, seq=0, symbol="BTC"):
    return Entry(
        kind=kind,
        symbol=symbol,
        amount=D(amount),
        executed_at=when,
        price=None if price is None else D(price),
        fee=D(fee),
        total=None if total is None else D(total),
        seq=seq,
    )


SEQUENCE_A = [
    e("buy", "1", at(1), "100", fee="1", seq=1),  # lot 1 @ cost 101
    e("buy", "2", at(2), "200", fee="2", seq=2),  # lot 2 @ cost 402
    # proceeds 450 - 3 = 447: 298 for lot 1's unit, 149 for half a lot-2 unit
    e("sell", "1.5", at(3), "300", fee="3", seq=3),
]


def shape(ledger):
    return [(lot.amount, lot.cost) for lot in ledger.lots]


def test_fifo_fees_and_partial_sell_across_lots():
    led = lots.replay("BTC", SEQUENCE_A)
    # lot 1 (101) + half of lot 2 (100.5) sold for 447
    assert led.realized_pl == D("245.5")
    assert shape(led) == [(D("1.5"), D("301.5"))]
    assert (led.amount, led.cost_basis, led.average_cost) == (
        D("1.5"),
        D("301.5"),
        D("201"),
    )


def test_backdated_buy_changes_the_lots_a_later_sell_consumed():
    backdated = e("buy", "1", at(12, 1, 2023), "50", seq=4)  # entered last
    led = lots.replay("BTC", [*SEQUENCE_A, backdated])
    # now the 50 lot and half of the 101 lot are sold: 248 + 98.5
    assert led.realized_pl == D("346.5")
    assert shape(led) == [(D("0.5"), D("50.5")), (D("2"), D("402"))]
    assert led.cost_basis == D("452.5") and led.average_cost == D("181")


def test_average_cost_pools_known_lots():
    led = lots.replay("BTC", SEQUENCE_A, lots.AVERAGE)
    # pool 3 @ 503; 1.5 sold takes 251.5 of cost
    assert led.realized_pl == D("195.5")
    assert shape(led) == [(D("1.5"), D("251.5"))]
    assert led.average_cost == D("167.666666666666666667")


def test_unknown_cost_lot_is_flagged_and_left_out_of_pl():
    led = lots.replay(
        "ETH",
        [
            e("buy", "1", at(1), "10", seq=1, symbol="ETH"),
            e("transfer_in", "1", at(2), seq=2, symbol="ETH"),
            e("sell", "1.5", at(3), "20", seq=3, symbol="ETH"),
        ],
    )
    # 30 of proceeds: 20 against the 10 lot; the unknown half is left out
    assert led.realized_pl == D("10")
    assert led.unknown_cost_sold == D("0.5")
    assert shape(led) == [(D("0.5"), None)]
    assert led.cost_basis is None and led.unknown_cost_amount == D("0.5")
    assert led.average_cost is None


def test_transfer_in_with_price_and_transfer_out_without_realizing():
    led = lots.replay(
        "SOL",
        [
            e("transfer_in", "4", at(1), "5", seq=1, symbol="SOL"),
            e("transfer_out", "1", at(2), seq=2, symbol="SOL"),
        ],
    )
    assert led.realized_pl == 0
    assert shape(led) == [(D("3"), D("15"))]


def test_partial_lot_cost_is_rounded_once_and_conserved():
    led = lots.replay(
        "BTC",
        [
            e("buy", "3", at(1), "333.333333333333333333", total="1000", seq=1),
            e("sell", "1", at(2), "0", seq=2),
        ],
    )
    assert led.realized_pl == D("-333.333333333333333333")
    assert led.cost_basis == D("666.666666666666666667")
    assert led.cost_basis - led.realized_pl == D("1000")


def test_many_decimals_are_exact():
    amount, price = "0.123456789012345678", "12345.678901234567890123"
    led = lots.replay(
        "BTC", [e("buy", amount, at(1), price, fee="0.000000000000000001")]
    )
    assert led.cost_basis == D("1524.157875323883663924126172687597938394")
    led = lots.replay(
        "BTC",
        [
            e("buy", amount, at(1), price, seq=1),
            e("sell", amount, at(2), price, seq=2),
        ],
    )
    assert led.realized_pl == 0 and led.lots == []


@pytest.mark.parametrize(
    "entries,held",
    [
        # the buy is dated after the sell: nothing was held at the sell's date
        ([e("buy", "1", at(2), "1", seq=1), e("sell", "1", at(1), "1", seq=2)], "0"),
        ([e("buy", "1", at(1), "1", seq=1), e("transfer_out", "2", at(2), seq=2)], "1"),
    ],
)
def test_disposing_beyond_holdings_at_that_date_is_refused(entries, held):
    with pytest.raises(lots.OverdrawnError) as info:
        lots.replay("BTC", entries)
    assert info.value.held == D(held)
    assert f"You held {held} BTC on" in str(info.value)
