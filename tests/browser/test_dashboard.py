"""The dashboard in a real Chromium against a real server with the mock feed."""

from __future__ import annotations

import re
import uuid

import pytest

from .conftest import ARTIFACTS

pytestmark = [pytest.mark.browser, pytest.mark.timeout(180)]

WAIT = 20_000  # ms: every expectation is bounded


def _expect():
    from playwright.sync_api import expect

    expect.set_options(timeout=WAIT)
    return expect


def _sign_up(page, base_url: str, username: str, password: str) -> None:
    page.goto(base_url + "/signup/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password", exact=True).fill(password)
    page.get_by_label("Password confirmation").fill(password)
    page.get_by_role("button", name="Sign up").click()


def _log_in(page, base_url: str, username: str, password: str) -> None:
    page.goto(base_url + "/")
    page.wait_for_url(re.compile(r"/login/"))
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(base_url + "/")


def test_anonymous_visitor_is_sent_to_login(live_server_url, context, page_errors):
    expect = _expect()
    page = page_errors(context.new_page())
    page.goto(live_server_url + "/")
    expect(page).to_have_url(re.compile(r"/login/\?next=/$"))
    expect(page.get_by_role("heading", name="Log in")).to_be_visible()
    assert page_errors.errors == []


def test_dashboard_live_flow(
    live_server_url, browser, context, page_errors, socket_tap
):
    expect = _expect()
    base = live_server_url
    username, password = f"user{uuid.uuid4().hex[:8]}", "Correct-horse-42"
    page = page_errors(context.new_page())
    tap = socket_tap(page)

    # Sign up (logs in), log out, log in again.
    _sign_up(page, base, username, password)
    page.wait_for_url(base + "/")
    page.get_by_role("button", name="Log out").click()
    page.wait_for_url(re.compile(r"/login/"))
    _log_in(page, base, username, password)
    expect(page.locator("#conn")).to_have_attribute("data-state", "connected")

    # Add a holding: its value appears, labelled Simulated, and moves live.
    page.get_by_label("Symbol", exact=True).first.fill("BTC")
    page.get_by_label("Amount").fill("0.5")
    page.get_by_label("Cost basis (USD, optional)").fill("20000")
    page.get_by_role("button", name="Add holding").click()
    row = page.locator('#holdings-body tr[data-symbol="BTC"]')
    expect(row).to_be_visible()
    expect(row.locator(".amount")).to_have_text("0.5")
    expect(row.locator(".source-badge")).to_have_text("Simulated")
    expect(row.locator(".value")).to_have_text(re.compile(r"^\$[\d,]+\.\d{2}$"))
    total = page.locator("#total-value")
    expect(total).to_have_text(re.compile(r"^\$[\d,]+\.\d{2}$"))
    first_value = total.text_content()
    expect(total).not_to_have_text(first_value, timeout=10_000)
    expect(row.locator(".age")).to_have_text(re.compile(r"\ds ago"))

    # API validation errors show next to the field.
    page.get_by_label("Symbol", exact=True).first.fill("ETH")
    page.get_by_label("Amount").fill("-1")
    page.get_by_role("button", name="Add holding").click()
    expect(page.locator("#h-amount-err")).not_to_be_empty()
    page.get_by_label("Amount").fill("")
    page.get_by_label("Symbol", exact=True).first.fill("")

    # An alert rule that fires at once: toast, then acknowledge from the toast.
    rule_form = page.locator("#rule-form")
    rule_form.get_by_label("When").select_option("price_above")
    rule_form.get_by_label("Symbol").fill("BTC")
    rule_form.get_by_label("Threshold").fill("1")
    rule_form.get_by_role("button", name="Add rule").click()
    expect(page.locator("#rules-list li.rule")).to_have_count(1)
    toast = page.locator(".toast-alert")
    expect(toast).to_be_visible()
    expect(toast).to_contain_text("BTC")
    expect(page.locator("#alerts-list li.open")).to_have_count(1)
    page.screenshot(path=str(ARTIFACTS / "dashboard.png"), full_page=True)
    toast.get_by_role("button", name="Acknowledge").click()
    expect(page.locator("#alerts-list li.acked")).to_have_count(1)
    expect(page.locator("#alerts-list li.open")).to_have_count(0)

    # Reload: the holding and the acknowledgement are kept.
    page.reload()
    expect(page.locator('#holdings-body tr[data-symbol="BTC"] .amount')).to_have_text(
        "0.5"
    )
    expect(page.locator("#alerts-list li.acked")).to_have_count(1)
    expect(page.locator("#alerts-list li.open")).to_have_count(0)
    expect(page.locator("#conn")).to_have_attribute("data-state", "connected")

    # Kill the socket: reconnecting, then connected again, and still live.
    tap.drop()
    expect(page.locator("#conn")).to_have_attribute("data-state", "reconnecting")
    expect(page.locator("#conn")).to_have_attribute("data-state", "connected")
    before = total.text_content()
    expect(total).not_to_have_text(before, timeout=10_000)

    # Feed status from the system room.
    expect(page.locator("#feed-status")).not_to_be_empty()

    # A phone-width screenshot of the same account.
    phone = browser.new_context(
        viewport={"width": 390, "height": 844}, storage_state=context.storage_state()
    )
    try:
        mobile = page_errors(phone.new_page())
        mobile.goto(base + "/")
        expect(
            mobile.locator('#holdings-body tr[data-symbol="BTC"] .source-badge')
        ).to_have_text("Simulated")
        expect(mobile.locator("#conn")).to_have_attribute("data-state", "connected")
        mobile.screenshot(path=str(ARTIFACTS / "dashboard-mobile.png"), full_page=True)
    finally:
        phone.close()

    # The only console errors: Chromium's log of the deliberate 400 above.
    unexpected = [e for e in page_errors.errors if "status of 400" not in e]
    assert unexpected == []


FORMAT_CASES = [
    ("amount", ["0.5"], "0.5"),
    ("amount", ["1234.123456789"], "1,234.12345679"),
    ("amount", ["0.000000001"], "0"),
    ("price", ["43210.456"], "$43,210.46"),
    ("price", ["0.0123456"], "$0.01235"),
    ("price", ["0.5"], "$0.5000"),
    ("price", ["0.00001234567"], "$0.00001235"),
    ("usd", ["-1234.005", True], "-$1,234.01"),
    ("usd", ["12.3", True], "+$12.30"),
    ("usd", ["-0.004", True], "$0.00"),
    ("usd", ["1234567890123456.785"], "$1,234,567,890,123,456.79"),
    (
        "usd",
        ["123456789012345678901234567890.125"],
        "$123,456,789,012,345,678,901,234,567,890.13",
    ),
    ("percent", ["1.2345"], "+1.23%"),
    ("percent", ["0.0000"], "0.00%"),
    ("percent", ["-0.0050", False], "-0.01%"),
    ("fixed", ["12.5", 2, {"trim": True}], "12.5"),
    ("cmp", ["10", "9.99"], 1),
    ("cmp", ["1.000000000000000001", "1"], 1),
    ("cmp", [None, "0"], -1),
    ("sign", ["-0.0000001"], -1),
]

# Formatting and comparison only: the page does no arithmetic on money.
FORMAT_EXPORTS = ["amount", "cmp", "fixed", "parse", "percent", "price", "sign"]
FORMAT_EXPORTS += ["toNumber", "usd"]


def test_decimal_formatter_is_exact(live_server_url, browser):
    """decimal-format.js (an ES module): exact display of decimal strings."""
    page = browser.new_page()
    try:
        page.goto(live_server_url + "/login/")
        results, exports = page.evaluate(
            """async cases => {
                const Dec = await import("/static/js/decimal-format.js");
                return [cases.map(([fn, args]) => Dec[fn](...args)),
                        Object.keys(Dec).sort()];
            }""",
            [[fn, args] for fn, args, _ in FORMAT_CASES],
        )
    finally:
        page.close()
    assert results == [expected for _, _, expected in FORMAT_CASES]
    assert exports == sorted(FORMAT_EXPORTS)
