"""What a person notices: phone and desktop layouts, light and dark, the token page.

At 390×844 and 1440×900, in light and dark: no sideways scroll, every holding
field visible (stacked cards on the phone), the status on one line, toasts in
the flow; screenshots of each state go to test-artifacts/.
"""

from __future__ import annotations

import re
import uuid

import pytest

from .conftest import ARTIFACTS
from .test_dashboard import _expect, _sign_up

pytestmark = [pytest.mark.browser, pytest.mark.timeout(240)]

VIEWPORTS = {"phone": (390, 844), "desktop": (1440, 900)}
FIELDS = ("amount", "price", "value", "change", "alloc", "pl")
PRICED = re.compile(r"^\$[\d,]+\.\d{2}$")


def _csrf(context) -> str:
    return next(c["value"] for c in context.cookies() if c["name"] == "csrftoken")


def _post(page, path: str, body: dict) -> None:
    headers = {"X-CSRFToken": _csrf(page.context), "Content-Type": "application/json"}
    resp = page.request.post(page.url.rstrip("/") + path, data=body, headers=headers)
    assert resp.status in (200, 201), resp.text()


@pytest.fixture(scope="module")
def account(live_server_url, browser):
    """One signed-up user with two holdings and a watched symbol."""
    context = browser.new_context(viewport={"width": 1366, "height": 900})
    page = context.new_page()
    _sign_up(page, live_server_url, f"u{uuid.uuid4().hex[:8]}", "Correct-horse-42")
    page.wait_for_url(live_server_url + "/")
    _post(
        page,
        "/api/holdings/",
        {"symbol": "BTC", "amount": "0.5", "cost_basis": "20000"},
    )
    _post(page, "/api/holdings/", {"symbol": "ETH", "amount": "3.25"})
    _post(page, "/api/watchlist/", {"symbol": "SOL"})
    state = context.storage_state()
    context.close()
    return state


def _no_sideways_scroll(page) -> None:
    widths = page.evaluate(
        "() => [document.scrollingElement.scrollWidth,"
        " document.scrollingElement.clientWidth]"
    )
    assert widths[0] <= widths[1], f"sideways scroll: {widths}"


def _inside_viewport(page, locator, width: int) -> None:
    box = locator.bounding_box()
    assert box is not None, locator
    assert box["x"] >= 0 and box["x"] + box["width"] <= width + 0.5, (locator, box)


@pytest.mark.parametrize("scheme", ["light", "dark"])
@pytest.mark.parametrize("size", ["phone", "desktop"])
def test_every_field_visible_no_sideways_scroll(
    live_server_url, browser, account, page_errors, size, scheme
):
    expect = _expect()
    width, height = VIEWPORTS[size]
    context = browser.new_context(
        viewport={"width": width, "height": height},
        color_scheme=scheme,
        storage_state=account,
    )
    try:
        page = page_errors(context.new_page())
        page.goto(live_server_url + "/")
        for symbol in ("BTC", "ETH"):
            row = page.locator(f'#holdings-body tr[data-symbol="{symbol}"]')
            expect(row.locator(".value")).to_have_text(PRICED)
            for field in FIELDS:
                cell = row.locator("." + field)
                expect(cell).to_be_visible()
                _inside_viewport(page, cell, width)
            _inside_viewport(page, row.locator(".actions"), width)
        ticker = page.locator('#watch-list li[data-symbol="SOL"]')
        expect(ticker.locator(".price-text")).to_have_text(re.compile(r"^\$"))
        expect(page.locator("#conn")).to_have_attribute("data-state", "connected")

        # The theme follows the system: dark text on light, or the reverse.
        bg = page.evaluate("getComputedStyle(document.body).backgroundColor")
        light_bg = bg in ("rgb(244, 246, 249)",)
        assert light_bg == (scheme == "light"), bg

        # The status is one compact line: pill and time side by side.
        pill = page.locator("#conn").bounding_box()
        when = page.locator("#last-update").bounding_box()
        if size == "phone":
            assert abs(pill["y"] - when["y"]) < pill["height"], (pill, when)
            side = page.locator(".summary-side").bounding_box()
            assert side["height"] < 40, side
            # Cards: no header row, each value captioned from the column list.
            expect(page.locator("#holdings-table thead")).to_be_hidden()
            label = page.locator('#holdings-body tr[data-symbol="BTC"] .pl')
            assert label.get_attribute("data-label") == "P/L"

        # A toast sits in the flow: it never covers the cards below it.
        page.locator("#w-symbol").fill("ADA")
        page.locator("#watch-submit").click()
        toast = page.locator(".toast").first
        expect(toast).to_be_visible()
        assert page.evaluate("getComputedStyle(toasts).position") == "static"
        page.locator("#w-symbol").fill("")

        # Charts: monotone line, time ascending, shares in the legend labels.
        chart = page.evaluate(
            """() => {
              const v = Chart.getChart(document.getElementById('value-chart'));
              const a = Chart.getChart(document.getElementById('alloc-chart'));
              const xs = v.data.datasets[0].data.map(p => p.x);
              return {mode: v.data.datasets[0].cubicInterpolationMode,
                      ascending: xs.every((x, i) => i === 0 || x > xs[i - 1]),
                      labels: a.data.labels};
            }"""
        )
        assert chart["mode"] == "monotone" and chart["ascending"], chart
        assert all(re.search(r"\d%$", label) for label in chart["labels"]), chart
        assert page.locator("#holdings-body canvas.spark").count() == 2

        _no_sideways_scroll(page)
        page.screenshot(
            path=str(ARTIFACTS / f"layout-{size}-{scheme}.png"), full_page=True
        )
        assert page_errors.errors == []
    finally:
        page.evaluate("() => localStorage.clear()")
        _delete_watch(page, "ADA")
        context.close()


def _delete_watch(page, symbol: str) -> None:
    listing = page.request.get(page.url.rstrip("/") + "/api/watchlist/").json()
    for entry in listing["results"]:
        if entry["symbol"] == symbol:
            page.request.delete(
                page.url.rstrip("/") + f"/api/watchlist/{entry['id']}/",
                headers={"X-CSRFToken": _csrf(page.context)},
            )


def test_theme_toggle_is_remembered(live_server_url, browser, account, page_errors):
    expect = _expect()
    context = browser.new_context(
        viewport={"width": 390, "height": 844},
        color_scheme="dark",
        storage_state=account,
    )
    try:
        page = page_errors(context.new_page())
        page.goto(live_server_url + "/")
        toggle = page.locator("#theme-toggle")
        expect(toggle).to_have_text("Theme: Auto")
        toggle.click()
        expect(toggle).to_have_text("Theme: Light")
        expect(page.locator("html")).to_have_attribute("data-theme", "light")
        page.reload()
        expect(page.locator("html")).to_have_attribute("data-theme", "light")
        expect(page.locator("#theme-toggle")).to_have_text("Theme: Light")
        bg = page.evaluate("getComputedStyle(document.body).backgroundColor")
        assert bg == "rgb(244, 246, 249)", bg
        page.locator("#theme-toggle").click()  # Dark
        page.locator("#theme-toggle").click()  # back to Auto: the system (dark)
        expect(page.locator("html")).not_to_have_attribute("data-theme", "light")
        assert page_errors.errors == []
    finally:
        context.close()


def test_token_page_shows_the_key_once(live_server_url, browser, account, page_errors):
    expect = _expect()
    context = browser.new_context(
        viewport={"width": 390, "height": 844}, storage_state=account
    )
    try:
        page = page_errors(context.new_page())
        page.goto(live_server_url + "/")
        page.get_by_role("link", name="API", exact=True).click()
        expect(page.locator("#token-state")).to_have_text("You have no API token.")
        expect(page.get_by_role("link", name="Interactive API docs")).to_be_visible()
        page.get_by_role("button", name="Create a token").click()
        key = page.locator("#token-key")
        expect(key).to_have_text(re.compile(r"^[0-9a-f]{40}$"))
        secret = key.text_content()
        expect(page.locator("#token-state")).to_contain_text("You have a token")
        expect(page.get_by_role("button", name="Create a token")).to_be_hidden()
        page.screenshot(path=str(ARTIFACTS / "token-created.png"), full_page=True)
        resp = page.request.get(
            live_server_url + "/api/portfolio/",
            headers={"Authorization": f"Token {secret}"},
        )
        assert resp.status == 200
        page.reload()
        expect(page.locator("#token-state")).to_contain_text("You have a token")
        assert secret not in page.content()
        page.get_by_role("button", name="Revoke the token").click()
        expect(page.locator("#token-state")).to_have_text("You have no API token.")
        resp = page.request.get(
            live_server_url + "/api/portfolio/",
            headers={"Authorization": f"Token {secret}"},
        )
        assert resp.status == 401 and resp.headers["www-authenticate"] == "Token"
        _no_sideways_scroll(page)
        assert page_errors.errors == []
    finally:
        context.close()
