"""The transactions page in a real Chromium: add, edit, delete, import, export."""

from __future__ import annotations

import re
import uuid
from pathlib import Path

import pytest

from .conftest import ARTIFACTS
from .test_dashboard import _expect, _sign_up

pytestmark = [pytest.mark.browser, pytest.mark.timeout(180)]

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "ledger"


def test_transactions_page_flow(live_server_url, context, page_errors, tmp_path):
    expect = _expect()
    base = live_server_url
    page = page_errors(context.new_page())
    _sign_up(page, base, f"tx{uuid.uuid4().hex[:8]}", "Correct-horse-42")
    page.wait_for_url(base + "/")
    page.get_by_role("link", name="Transactions").click()
    page.wait_for_url(base + "/transactions/")
    body = page.locator("#tx-body")
    expect(body).to_contain_text("No transactions yet")

    # Add a buy, then a sell larger than held: the field error says how much.
    form = page.locator("#tx-form")
    form.get_by_label("Kind").select_option("buy")
    form.get_by_label("Symbol").fill("BTC")
    form.get_by_label("Amount").fill("0.123456789012345678")
    form.get_by_label("Price (USD)").fill("30000.5")
    form.get_by_label("Fee (USD)").fill("1.25")
    form.get_by_label("Date (UTC)").fill("2024-01-02T10:00:00")
    form.get_by_role("button", name="Add").click()
    expect(body.locator("tr")).to_have_count(1)
    expect(body.locator(".amount")).to_have_text("0.123456789012345678")
    form.get_by_label("Kind").select_option("sell")
    form.get_by_label("Symbol").fill("BTC")
    form.get_by_label("Amount").fill("1")
    form.get_by_label("Price (USD)").fill("40000")
    form.get_by_label("Date (UTC)").fill("2024-02-01T10:00:00")
    form.get_by_role("button", name="Add").click()
    error = form.locator('.field-errors[data-for="amount"]')
    expect(error).to_contain_text("You held 0.123456789012345678 BTC")

    # Edit the buy's price; the exact string comes back.
    body.get_by_role("button", name=re.compile("^Edit")).first.click()
    form.get_by_label("Price (USD)").fill("31000.000000000000000001")
    form.get_by_role("button", name="Save").click()
    expect(body.locator(".price").first).to_have_text("31000.000000000000000001")

    # Import: a refused file shows its row and column; nothing is stored.
    bad = tmp_path / "bad.csv"
    bad.write_text(
        "executed_at,kind,symbol,amount,price\n2024-01-01T00:00:00Z,buy,ETH,abc,1\n"
    )
    imp = page.locator("#import-form")
    imp.locator('input[type="file"]').set_input_files(str(bad))
    page.get_by_role("button", name="Preview").click()
    result = page.locator("#import-result")
    expect(result).to_contain_text("Nothing was imported")
    expect(result).to_contain_text("amount")
    page.screenshot(
        path=str(ARTIFACTS / "transactions-import-error.png"), full_page=True
    )

    # A Coinbase file: preview (nothing stored), then import.
    imp.locator('input[type="file"]').set_input_files(str(FIXTURES / "coinbase_v1.csv"))
    page.get_by_role("button", name="Preview").click()
    expect(result).to_contain_text("coinbase file: 8 entries; would add 8")
    expect(result).to_contain_text("Deposit of USD is a cash movement")
    expect(body.locator("tr")).to_have_count(1)
    page.screenshot(path=str(ARTIFACTS / "transactions-preview.png"), full_page=True)
    page.get_by_role("button", name="Import", exact=True).click()
    expect(result).to_contain_text("added 8")
    expect(body.locator("tr")).to_have_count(9)

    # Filter, delete (two clicks), export.
    page.locator("#tx-filters").get_by_label("Symbol").fill("SOL")
    page.locator("#tx-filters").get_by_role("button", name="Filter").click()
    expect(body.locator("tr")).to_have_count(1)
    remove = body.get_by_role("button", name=re.compile("^Delete"))
    remove.click()
    remove.click()
    expect(body).to_contain_text("No transactions yet")
    page.locator("#tx-filters").get_by_label("Symbol").fill("")
    page.locator("#tx-filters").get_by_role("button", name="Filter").click()
    expect(body.locator("tr")).to_have_count(8)
    with page.expect_download() as info:
        page.get_by_role("link", name="Export CSV").click()
    exported = Path(info.value.path()).read_text()
    assert exported.startswith("executed_at,kind,symbol,amount,price,fee,total,note")
    assert "31000.000000000000000001" in exported
    page.screenshot(path=str(ARTIFACTS / "transactions.png"), full_page=True)

    # The dashboard's holdings table shows average cost and realized P/L.
    page.get_by_role("link", name="Dashboard").click()
    row = page.locator('#holdings-body tr[data-symbol="BTC"]')
    expect(row.locator(".realized")).to_have_text(
        re.compile(r"^[+−-]?\$[\d,]+\.\d{2}$")
    )
    expect(row.locator(".avgcost")).to_have_text(re.compile(r"^\$[\d,]+(\.\d+)?$"))
    page.screenshot(path=str(ARTIFACTS / "dashboard-ledger.png"), full_page=True)
    # The refused sell and the refused file are answered 400 on purpose.
    unexpected = [e for e in page_errors.errors if "status of 400" not in e]
    assert unexpected == []
    assert len(page_errors.errors) == 2
