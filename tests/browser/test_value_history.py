"""The value chart of a ledger with a year of entries shows that year (Chromium),
priced by candles from a fake exchange REST server on 127.0.0.1."""

from __future__ import annotations

import json
import urllib.request
import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal as D

import pytest

from tests.candles_fake import serve

from .conftest import ARTIFACTS, running_server
from .test_dashboard import _expect, _sign_up

pytestmark = [pytest.mark.browser, pytest.mark.timeout(240)]

# Set by the fixture when the test starts, not at import: collected before
# midnight UTC and run after it, the year would be off by a day.
TODAY = DAY0 = datetime.now(UTC)


def _set_today() -> None:
    global TODAY, DAY0
    TODAY = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    DAY0 = TODAY - timedelta(days=364)


PASSWORD = "Correct-horse-42"


def price(symbol: str, interval: str, t: datetime) -> D | None:
    """BTC rises 20 a day from 20000 with a dip in the middle; ETH half as fast."""
    days = D((t - DAY0) // timedelta(hours=1)) / 24
    if t < DAY0:
        return None
    dip = -3000 if 150 <= days < 200 else 0
    return {"BTC": 20000 + 20 * days + dip, "ETH": 1000 + days}.get(symbol)


def entries() -> list[dict]:
    def on(day: int) -> str:
        return (DAY0 + timedelta(days=day, hours=10)).isoformat()

    rows = [dict(kind="buy", symbol="BTC", amount="1", price="20000", fee="10",
                 executed_at=on(0))]  # fmt: skip
    for m in range(1, 12):
        rows.append(dict(kind="buy", symbol="ETH", amount="1", fee="1",
                         price=str(1000 + 30 * m), executed_at=on(30 * m)))  # fmt: skip
    rows.append(dict(kind="sell", symbol="BTC", amount="0.25", price="22000",
                     fee="5", executed_at=on(100)))  # fmt: skip
    rows.append(dict(kind="transfer_in", symbol="BTC", amount="0.5",
                     executed_at=on(220)))  # fmt: skip
    return rows


def _post(url: str, body: dict, token: str | None = None) -> dict:
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Token {token}"
    req = urllib.request.Request(url, json.dumps(body).encode(), headers)
    with urllib.request.urlopen(req, timeout=20) as resp:
        return json.loads(resp.read())


@pytest.fixture(scope="module")
def history_server(tmp_path_factory):
    _set_today()
    with serve(price) as (candles_url, fake):
        extra = {
            "CANDLES_FETCH": "1",
            "CANDLE_PROVIDERS": "binance",
            "BINANCE_REST_URL": candles_url,
            "CANDLES_TIMEOUT": "10",
        }
        with running_server(tmp_path_factory.mktemp("history"), extra) as url:
            yield url, fake


def test_a_year_of_entries_on_the_value_chart(history_server, context, page_errors):
    expect = _expect()
    base, fake = history_server
    name = f"hist{uuid.uuid4().hex[:8]}"
    page = page_errors(context.new_page())
    _sign_up(page, base, name, PASSWORD)
    page.wait_for_url(base + "/")
    token = _post(base + "/api/auth/token/", {"username": name, "password": PASSWORD})
    for row in entries():
        _post(base + "/api/transactions/", row, token["token"])

    page.reload()
    page.get_by_role("button", name="1y", exact=True).click()
    summary = page.locator("#value-chart-summary")
    expect(summary).to_be_visible()
    api = page.evaluate(
        "async () => (await fetch('/api/portfolio/history/?range=1y')).json()"
    )
    assert api["basis"] == "ledger" and api["market_data"] is True
    assert len(api["points"]) == 364
    expect(page.locator("#history-performance")).to_have_text(
        "+$" + f"{D(api['summary']['performance']):,.2f}"
    )
    chart = page.evaluate(
        "() => { const d = Chart.getChart(document.getElementById('value-chart'))"
        ".data.datasets[0].data; return [d.length, d[0].x, d[d.length - 1].x,"
        " d[d.length - 1].s]; }"
    )
    assert chart[0] == 364
    assert chart[1] == int((DAY0 + timedelta(days=1)).timestamp() * 1000)
    assert chart[2] == int(TODAY.timestamp() * 1000)
    assert chart[3] == api["points"][-1]["value"]  # the server's exact string
    page.locator("#value-chart").scroll_into_view_if_needed()
    page.screenshot(path=str(ARTIFACTS / "value-history-1y.png"), full_page=True)

    # The per-asset price chart: the held symbols, the year of closes.
    card = page.locator("#price-card")
    expect(card).to_be_visible()
    page.locator("#price-symbol").select_option("ETH")
    # 1y = the last 365 days; the fake exchange has nothing before DAY0: a gap.
    page.wait_for_function(
        "() => { const c = Chart.getChart(document.getElementById('price-chart'));"
        " const d = c && c.data.datasets[0].data;"
        " return d && d.length === 365 && d[0].s === null && d[364].s === '1363'; }",
        timeout=20000,
    )
    expect(page.locator("#price-chart-note")).to_contain_text("no market data")
    card.scroll_into_view_if_needed()
    card.screenshot(path=str(ARTIFACTS / "price-history-eth-1y.png"))
    assert fake.requests  # candles came from the fake exchange, and were stored
    assert not page_errors.errors
