"""A page that never claims Live falsely: banner, pill, feed chips, listed symbols."""

from __future__ import annotations

import re
import time
import uuid

import pytest

from .conftest import ARTIFACTS
from .test_dashboard import _expect, _sign_up

pytestmark = [pytest.mark.browser, pytest.mark.timeout(180)]

SIMULATED_BANNER = "Simulated prices — not market data"


def _new_user(page, base: str) -> None:
    _sign_up(page, base, f"trust{uuid.uuid4().hex[:8]}", "Correct-horse-42")
    page.wait_for_url(base + "/")


def test_simulated_feed_is_said_everywhere_and_unlisted_symbols_refused(
    live_server_url, browser, context, page_errors
):
    expect = _expect()
    base = live_server_url
    page = page_errors(context.new_page())
    _new_user(page, base)
    started = time.monotonic()
    # The feed chips come with the greeting of the system room, not 3-4 s later.
    expect(page.locator("#feed-status .feed-chip")).not_to_have_count(0, timeout=3000)
    assert time.monotonic() - started < 3.0
    chip = page.locator("#feed-status .feed-chip")
    expect(chip).to_have_class(re.compile(r"status-simulated"))
    expect(chip).to_contain_text("Simulated (not market data)")
    expect(page.locator("#feed-status .status-connected")).to_have_count(0)

    pill = page.locator("#conn")
    expect(pill).to_have_attribute("data-state", "connected")  # the socket
    expect(pill).to_have_attribute("data-data", "simulated")  # the data
    expect(page.locator("#conn-label")).to_have_text("Simulated prices")
    banner = page.locator("#truth-banner")
    expect(banner).to_be_visible()
    expect(banner).to_contain_text(SIMULATED_BANNER)

    # A symbol no exchange lists is refused in the user's words.
    page.get_by_label("Symbol", exact=True).first.fill("XQZV")
    page.get_by_label("Amount").fill("1")
    page.get_by_role("button", name="Add holding").click()
    expect(page.locator("#h-symbol-err")).to_have_text(
        "XQZV is not listed on Binance, Coinbase or Kraken."
    )
    page.get_by_label("Symbol", exact=True).first.fill("ETHH")
    page.get_by_role("button", name="Add holding").click()
    expect(page.locator("#h-symbol-err")).to_contain_text("Did you mean ETH?")
    expect(page.locator('#holdings-body tr[data-symbol="XQZV"]')).to_have_count(0)

    # A listed one is taken; its total is marked as resting on simulated prices.
    page.get_by_label("Symbol", exact=True).first.fill("BTC")
    page.get_by_role("button", name="Add holding").click()
    row = page.locator('#holdings-body tr[data-symbol="BTC"]')
    expect(row.locator(".source-badge")).to_have_text("Simulated")
    expect(page.locator("#total-simulated")).to_be_visible()
    expect(page.locator("#summary-note")).to_contain_text("simulated prices")
    page.screenshot(path=str(ARTIFACTS / "trust-desktop.png"), full_page=False)

    phone = browser.new_context(
        viewport={"width": 390, "height": 844}, storage_state=context.storage_state()
    )
    try:
        mobile = page_errors(phone.new_page())
        mobile.goto(base + "/")
        mobile_banner = mobile.locator("#truth-banner")
        expect(mobile_banner).to_contain_text(SIMULATED_BANNER)
        box = mobile_banner.bounding_box()
        assert box is not None and box["y"] + box["height"] <= 844  # first screen
        expect(mobile.locator("#conn-label")).to_have_text("Simulated prices")
        mobile.screenshot(path=str(ARTIFACTS / "trust-mobile.png"))
    finally:
        phone.close()
    unexpected = [e for e in page_errors.errors if "status of 400" not in e]
    assert unexpected == []


def _status(data_state: str, interval: float = 0.5) -> dict:
    return {
        "type": "system_status",
        "room": "system",
        "data": {
            "available": True,
            "data_state": data_state,
            "mock_active": False,
            "interval": interval,
            "providers": {"binance": {"status": "connected", "is_primary": True}},
            "serving": {},
        },
    }


def test_pill_follows_the_data_and_notices_a_worker_takeover(
    live_server_url, context, page_errors, socket_tap
):
    """The server's status frames are held back; the test plays the worker."""
    expect = _expect()
    page = page_errors(context.new_page())
    tap = socket_tap(page, hold=frozenset({"system_status"}))
    _new_user(page, live_server_url)
    pill, label = page.locator("#conn"), page.locator("#conn-label")
    expect(pill).to_have_attribute("data-state", "connected")
    expect(label).to_have_text("Waiting for exchanges")  # nothing reported yet

    tap.inject(_status("live"))
    expect(label).to_have_text("Live")
    expect(page.locator("#truth-banner")).to_be_hidden()

    tap.inject(_status("stale"))
    expect(label).to_have_text("Stale prices")
    expect(page.locator("#truth-banner")).to_contain_text("Stale prices")

    # The worker stops reporting: after a few intervals the page says so.
    tap.inject(_status("live"))
    expect(label).to_have_text("Live")
    expect(label).to_have_text("Worker takeover — prices paused", timeout=8000)
    expect(pill).to_have_attribute("data-data", "takeover")
    page.screenshot(path=str(ARTIFACTS / "trust-takeover.png"))

    # Disconnected beats everything.
    tap.drop()
    expect(pill).not_to_have_attribute("data-data", "live")
    assert page_errors.errors == []
