"""The dashboard shows the server's figures, never its own valuation.

The page's socket runs through a Playwright route that holds back the server's
``portfolio_update`` and ``price_update`` frames, so the test decides what the
page is told: first the REST summary the page itself fetched (real server, mock
feed), then summaries made by ``portfolio.valuation.portfolio_summary`` (the
server's own code) and price frames that disagree with them. A page that valued
holdings itself would show other totals (a price for an unpriced holding, a
half-up allocation where the server rounds half-even).
"""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any
from urllib.parse import urlsplit

import pytest

from portfolio.valuation import Position, portfolio_summary

from .conftest import ARTIFACTS

pytestmark = [pytest.mark.browser, pytest.mark.timeout(180)]

WAIT = 20_000  # ms: every expectation is bounded
HELD = frozenset({"portfolio_update", "price_update"})
STALE_AFTER = 10.0  # the browser server's PRICE_STALE_AFTER (settings default)
POSITIONS = [
    Position("BTC", Decimal("0.5"), Decimal("20000")),
    Position("ETH", Decimal("1")),
]


# -- the page's display formatting, for exact decimal strings (decimal-format.js) --
def _fixed(value: str, places: int) -> tuple[str, bool]:
    q = Decimal(value).quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)
    return f"{abs(q):,.{places}f}", q < 0


def usd(value: str, plus: bool = False) -> str:
    text, negative = _fixed(value, 2)
    sign = "-" if negative else ("+" if plus and Decimal(text.replace(",", "")) else "")
    return f"{sign}${text}"


def pct(value: str, plus: bool = True) -> str:
    text, negative = _fixed(value, 2)
    sign = "-" if negative else ("+" if plus and Decimal(text.replace(",", "")) else "")
    return f"{sign}{text}%"


def _figure(amount: str, percent: str) -> str:
    """A summary figure as the card shows it: "+$1.00 (+5.00%)"."""
    return f"{usd(amount, True)} ({pct(percent)})"


def _expect():
    from playwright.sync_api import expect

    expect.set_options(timeout=WAIT)
    return expect


def _frame(kind: str, data: dict[str, Any]) -> dict[str, Any]:
    now = datetime.now(UTC).isoformat()
    return {
        "type": kind,
        "data": data,
        "client_id": None,
        "room": None,
        "timestamp": now,
    }


def _price(symbol: str, price: str, at: datetime, change: str | None = None) -> dict:
    return {
        "symbol": symbol,
        "price": price,
        "timestamp": at.isoformat(),
        "volume_24h": None,
        "change_24h": change,
        "change_percent_24h": None,
        "source": "mock",
    }


def _summary(prices: dict[str, dict], now: datetime) -> dict[str, Any]:
    return portfolio_summary(
        holdings=POSITIONS, prices=prices, now=now, stale_after=STALE_AFTER
    )


def _add_holding(page, symbol: str, amount: str, cost: str = "") -> dict[str, Any]:
    """Add through the form; returns the REST summary the page then fetched."""
    page.get_by_label("Symbol", exact=True).first.fill(symbol)
    page.get_by_label("Amount").fill(amount)
    page.get_by_label("Cost basis (USD, optional)").fill(cost)

    def is_summary(resp) -> bool:
        return (
            resp.request.method == "GET"
            and urlsplit(resp.url).path == "/api/portfolio/"
        )

    with page.expect_response(is_summary, timeout=WAIT) as info:
        page.get_by_role("button", name="Add holding").click()
    return info.value.json()


def _assert_shows(page, summary: dict[str, Any]) -> None:
    """Every figure on the page is the summary's (exact string and its display)."""
    expect = _expect()
    totals = summary["totals"]
    expect(page.locator("#total-value")).to_have_attribute(
        "data-value", totals["value"]
    )
    expect(page.locator("#total-value")).to_have_text(usd(totals["value"]))
    if totals["unrealized_pl"] is not None:
        pl = page.locator("#total-pl")
        expect(pl).to_have_attribute("data-value", totals["unrealized_pl"])
        expect(pl).to_have_text(
            _figure(totals["unrealized_pl"], totals["unrealized_pl_percent"])
        )
    if totals["change_24h"] is not None:
        change = page.locator("#total-change")
        expect(change).to_have_attribute("data-value", totals["change_24h"])
        expect(change).to_have_text(
            _figure(totals["change_24h"], totals["change_percent_24h"])
        )
    expect(page.locator("#holdings-body tr[data-symbol]")).to_have_count(
        len(summary["holdings"])
    )
    for row in summary["holdings"]:
        tr = page.locator(f'#holdings-body tr[data-symbol="{row["symbol"]}"]')
        for cell, key in [
            ("value", "value"),
            ("alloc", "allocation_percent"),
            ("pl", "unrealized_pl"),
            ("change", "change_percent_24h"),
            ("price", "price"),
            ("amount", "amount"),
        ]:
            expect(tr.locator("." + cell)).to_have_attribute(
                "data-value", row[key] or ""
            )
        if row["value"] is None:
            expect(tr.locator(".value")).to_have_text("—")
            expect(tr.locator(".price-text")).to_have_text("no price yet")
        else:
            expect(tr.locator(".value")).to_have_text(usd(row["value"]))
            expect(tr.locator(".alloc")).to_have_text(
                pct(row["allocation_percent"], False)
            )
    unpriced = totals["unpriced_count"]
    notes = []
    if totals["simulated"]:  # provenance of the total, as the server says
        notes.append("rests on simulated prices")
    if totals["stale_count"]:
        notes.append(f"{totals['stale_count']} priced from stale data")
    if unpriced:
        notes.append(f"{unpriced} without a price yet (not in the total)")
    expect(page.locator("#summary-note")).to_have_text(" · ".join(notes))


def test_page_shows_the_servers_figures_only(
    live_server_url, browser, page_errors, socket_tap
):
    expect = _expect()
    base = live_server_url
    context = browser.new_context(viewport={"width": 1440, "height": 900})
    try:
        page = page_errors(context.new_page())
        tap = socket_tap(page, hold=HELD)
        username = f"user{uuid.uuid4().hex[:8]}"
        page.goto(base + "/signup/")
        page.get_by_label("Username").fill(username)
        page.get_by_label("Password", exact=True).fill("Correct-horse-42")
        page.get_by_label("Password confirmation").fill("Correct-horse-42")
        page.get_by_role("button", name="Sign up").click()
        page.wait_for_url(base + "/")
        expect(page.locator("#conn")).to_have_attribute("data-state", "connected")

        # First render: exactly the REST summary the page fetched (mock prices).
        _assert_shows(page, _add_holding(page, "BTC", "0.5", "20000"))
        rest = _add_holding(page, "ETH", "1")
        assert [r["symbol"] for r in rest["holdings"]] == ["BTC", "ETH"]
        _assert_shows(page, rest)
        page.screenshot(path=str(ARTIFACTS / "server-values-rest.png"), full_page=True)

        # A partial total: ETH has no price on the server, BTC's is 30 s old.
        now = datetime.now(UTC)
        btc = _price("BTC", "2", now - timedelta(seconds=30), change="0.25")
        partial = _summary({"BTC": btc}, now)
        assert partial["totals"]["value"] == "1"
        tap.inject(_frame("portfolio_update", {**partial, "user_id": 0}))
        _assert_shows(page, partial)
        btc_row = page.locator('#holdings-body tr[data-symbol="BTC"]')
        expect(btc_row).to_have_class(re.compile(r"\bstale\b"))

        # Price frames: BTC's price confirmed now (with another 24h change), ETH
        # priced. Only the age moves; a page valuing from ticks would now show
        # ETH at $1,999,999.00 and a total of $2,000,000.00.
        later = datetime.now(UTC)
        ticks = [
            _price("BTC", "2", later, change="0.5"),
            _price("ETH", "1999999", later),
        ]
        tap.inject(_frame("price_update", {"prices": ticks}))
        expect(btc_row).not_to_have_class(re.compile(r"\bstale\b"))
        expect(btc_row.locator(".age")).to_have_text(re.compile(r"^\ds ago$"))
        _assert_shows(page, partial)

        # The server values ETH: allocation 100 * 1 / 2000000 = 0.00005 %, a tie
        # the server rounds half-even to 0.0000 (half-up would say 0.0001).
        now = datetime.now(UTC)
        eth = _price("ETH", "1999999", now - timedelta(seconds=30))
        full = _summary({"BTC": btc, "ETH": eth}, now)
        btc_full = full["holdings"][0]
        assert (btc_full["symbol"], btc_full["allocation_percent"]) == ("BTC", "0.0000")
        assert full["totals"]["value"] == "2000000"
        tap.inject(_frame("portfolio_update", {**full, "user_id": 0}))
        _assert_shows(page, full)

        # An older summary arriving late is ignored; the tick after it proves it
        # was processed (frames are handled in order).
        tap.inject(_frame("portfolio_update", {**partial, "user_id": 0}))
        eth_row = page.locator('#holdings-body tr[data-symbol="ETH"]')
        expect(eth_row).to_have_class(re.compile(r"\bstale\b"))
        tick = _price("ETH", "1999999", datetime.now(UTC))
        tap.inject(_frame("price_update", {"prices": [tick]}))
        expect(eth_row).not_to_have_class(re.compile(r"\bstale\b"))
        _assert_shows(page, full)
        page.screenshot(path=str(ARTIFACTS / "server-values-1440.png"), full_page=True)

        # The server's own frames were there all along (and held back).
        kinds = {f.get("type") for f in tap.frames}
        assert "price_update" in kinds
        assert page_errors.errors == []
    finally:
        context.close()
