"""CSV import and export through the API: formats, dry run, atomicity, re-import."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from portfolio.models import Transaction

pytestmark = pytest.mark.django_db

URL = "/api/transactions/import/"
FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "ledger"


def upload(api, content: bytes, name="export.csv", **form):
    file = SimpleUploadedFile(name, content, content_type="text/csv")
    return api.post(URL, {"file": file, **form}, format="multipart")


def fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def rows(api) -> dict[str, dict]:
    return {r["symbol"]: r for r in api.get("/api/portfolio/").json()["holdings"]}


def test_coinbase_older_variant_imports_and_reimports_cleanly(api, user):
    resp = upload(api, fixture("coinbase_v1.csv"))
    assert resp.status_code == 201, resp.content
    body = resp.json()
    assert body["format"] == "coinbase"
    # 7 asset rows; the Convert is a sell and a buy; the USD deposit is skipped
    assert (body["entries"], body["created"]) == (8, 8)
    assert body["skipped"] == [
        {"row": 9, "reason": "Deposit of USD is a cash movement, not an asset."}
    ]
    held = rows(api)
    # 0.0125 BTC for 430 (fees in), 0.005 sold (cost 172), 0.00696 in for 276
    assert (held["BTC"]["amount"], held["BTC"]["cost_basis"]) == ("0.01446", "534")
    assert held["BTC"]["realized_pl"] == "138.5"
    # ETH: 0.1 converted (cost 180, proceeds 276), 0.2 sent out (no P/L)
    assert (held["ETH"]["amount"], held["ETH"]["cost_basis"]) == ("0.201", "361.5")
    assert held["ETH"]["realized_pl"] == "96"
    assert held["SOL"]["cost_basis"] is None
    assert held["SOL"]["unknown_cost_amount"] == "3"
    totals = api.get("/api/portfolio/").json()["totals"]
    assert totals["realized_pl"] == "234.5"
    again = upload(api, fixture("coinbase_v1.csv"))
    assert again.status_code == 200
    assert (again.json()["created"], again.json()["duplicates"]) == (0, 8)
    assert Transaction.objects.filter(owner=user).count() == 8


def test_coinbase_newer_variant_with_ids_and_dollar_amounts(api, user):
    resp = upload(api, fixture("coinbase_v2.csv"))
    assert resp.status_code == 201, resp.content
    assert resp.json()["created"] == 5
    assert [s["row"] for s in resp.json()["skipped"]] == [8]
    held = rows(api)
    assert held["BTC"]["cost_basis"] == "423.15"
    assert held["BTC"]["realized_pl"] == "230.85"  # 654 - 423.15
    # 10 SOL for 1000 (fees in), 0.0421 staked at 99, 2.5 sent out
    assert held["SOL"]["amount"] == "7.5421"
    assert held["SOL"]["cost_basis"] == "754.1679"
    ids = set(Transaction.objects.values_list("import_id", flat=True))
    assert "coinbase-65a1f0c2e4b7d9a1c3e5f701" in ids
    assert upload(api, fixture("coinbase_v2.csv")).json()["created"] == 0


def test_binance_trade_history_with_unit_suffixes(api, user):
    resp = upload(api, fixture("binance_trades.csv"))
    assert resp.status_code == 201, resp.content
    body = resp.json()
    assert body["format"] == "binance"
    assert body["created"] == 4  # two identical fills both count
    assert body["skipped"][0]["row"] == 6 and "ETHBTC" in body["skipped"][0]["reason"]
    assert "BNB" in body["warnings"][0]["message"]
    held = rows(api)
    # each buy nets 0.0014985 BTC (fee in BTC) for 63.00075; 0.001 sold for
    # 48.01 - 0.04801: cost 63.00075 x 0.001 / 0.0014985 (18 decimals)
    assert held["BTC"]["amount"] == "0.001997"
    assert held["BTC"]["realized_pl"] == "5.919447457457457457"
    assert held["BTC"]["cost_basis"] == "83.958957457457457457"
    assert held["ETH"]["cost_basis"] == "980.048"
    assert upload(api, fixture("binance_trades.csv")).json()["created"] == 0


def test_generic_csv_and_export_round_trip(api, other_api, user, other_user):
    resp = upload(api, fixture("generic.csv"))
    assert resp.status_code == 201, resp.content
    held = rows(api)
    assert held["BTC"]["realized_pl"] == "3595.5246913578024691356"
    assert held["BTC"]["cost_basis"] == "8103"
    exported = api.get("/api/transactions/export/")
    assert exported["Content-Type"].startswith("text/csv")
    text = exported.content
    assert text.splitlines()[0] == (
        b"executed_at,kind,symbol,amount,price,fee,total,note,import_id"
    )
    # Re-importing the export into the same ledger adds nothing ...
    assert upload(api, text).json()["created"] == 0
    # ... and into an empty ledger gives the same ledger.
    assert upload(other_api, text).status_code == 201
    assert rows(other_api) == rows(api)


def test_dry_run_previews_and_stores_nothing(api, user):
    resp = upload(api, fixture("generic.csv"), dry_run="true")
    assert resp.status_code == 200
    body = resp.json()
    assert body["dry_run"] and body["created"] == 3
    assert [p["status"] for p in body["preview"]] == ["new", "new", "new"]
    assert body["preview"][2]["price"] == "45000.123456789012345678"
    assert not Transaction.objects.filter(owner=user).exists()


@pytest.mark.parametrize(
    "content,row,column,fragment",
    [
        (
            b"executed_at,kind,symbol,amount,price\n"
            b"2024-01-01T00:00:00Z,buy,BTC,1,100\n"
            b"2024-01-02T00:00:00Z,buy,BTC,1.2.3,100\n",
            3,
            "amount",
            "not a number",
        ),
        (
            b"executed_at,kind,symbol,amount,price\n2024-01-01,gift,BTC,1,100\n",
            2,
            "kind",
            "not one of",
        ),
        (
            b"executed_at,kind,symbol,amount,price\n"
            b"2024-01-01T00:00:00Z,buy,BTC,1,100\n"
            b"2024-01-02T00:00:00Z,sell,BTC,2,100\n",
            3,
            "amount",
            "You held 1 BTC",
        ),
        (
            b"executed_at,kind,symbol,amount,price\n2024-01-01T00:00:00Z,buy,btc-usd,1,1\n",
            2,
            "symbol",
            "invalid",
        ),
        (
            b"Date(UTC),Pair,Side,Price,Executed,Amount,Fee\n"
            b"2024-01-03 09:15:02,BTCUSDT,BUY,42000,0.5,21000USDT,0USDT\n",
            2,
            "Executed",
            "amount with its unit",
        ),
    ],
)
def test_a_bad_row_is_400_naming_row_and_column_and_stores_nothing(
    api, user, content, row, column, fragment
):
    resp = upload(api, content)
    assert resp.status_code == 400, resp.content
    (error,) = resp.json()["errors"]
    assert (error["row"], error["column"]) == (row, column)
    assert fragment in error["message"]
    assert f"Row {row}" in resp.json()["file"][0]
    assert not Transaction.objects.filter(owner=user).exists()


def test_unknown_coinbase_type_is_reported_not_dropped(api, user):
    text = (
        fixture("coinbase_v1.csv").decode().replace("Send,ETH", "Mystery Airdrop,ETH")
    )
    resp = upload(api, text.encode())
    assert resp.status_code == 400
    assert resp.json()["errors"][0]["column"] == "Transaction Type"
    assert not Transaction.objects.filter(owner=user).exists()


def test_unrecognized_or_missing_file(api):
    resp = upload(api, b"a,b,c\n1,2,3\n")
    assert resp.status_code == 400 and "Unrecognized" in resp.json()["file"][0]
    assert api.post(URL, {}, format="multipart").status_code == 400


@pytest.mark.parametrize(
    ("content", "fmt"),
    [
        (b"whatever,else\n1,2\n", "coinbase"),  # found by the API fuzzer: was a 500
        (b"Timestamp,Transaction Type\n", "binance"),
        (b"", "generic"),
        (b"", ""),
        (b"a,b\x00c\n", "generic"),
    ],
)
def test_a_named_format_that_does_not_match_is_a_clear_400(api, user, content, fmt):
    form = {"format": fmt} if fmt else {}
    resp = upload(api, content, **form)
    assert resp.status_code == 400, resp.content
    assert resp.json()  # JSON with a message, nothing stored
    assert rows(api) == {}
