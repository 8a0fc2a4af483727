"""holdings/: CRUD, validation errors, per-user isolation."""

from __future__ import annotations

import json

import pytest

from portfolio.models import Holding

pytestmark = pytest.mark.django_db

URL = "/api/holdings/"


def create(api, **body):
    return api.post(URL, body, format="json")


def test_crud_roundtrip_with_decimal_strings(api, user):
    resp = create(api, symbol="BTC", amount="0.123456789012345678", cost_basis="1000")
    assert resp.status_code == 201, resp.content
    body = resp.json()
    assert body["amount"] == "0.123456789012345678"
    assert body["cost_basis"] == "1000"
    pk = body["id"]
    assert api.get(URL).json()["results"][0]["symbol"] == "BTC"
    assert api.get(f"{URL}{pk}/").json()["amount"] == "0.123456789012345678"
    resp = api.patch(f"{URL}{pk}/", {"amount": "2"}, format="json")
    assert resp.status_code == 200 and resp.json()["amount"] == "2"
    resp = api.put(f"{URL}{pk}/", {"symbol": "ETH", "amount": "3"}, format="json")
    assert resp.status_code == 200 and resp.json()["symbol"] == "ETH"
    assert api.delete(f"{URL}{pk}/").status_code == 204
    assert not Holding.objects.filter(owner=user).exists()


def test_amounts_are_strings_never_floats_or_exponents(api):
    create(api, symbol="BTC", amount="1000")
    raw = api.get(URL).content.decode()
    row = json.loads(raw)["results"][0]
    assert row["amount"] == "1000"
    assert "E+" not in raw
    assert isinstance(row["amount"], str)


@pytest.mark.parametrize(
    "amount,fragment",
    [
        ("0", "greater than 0"),
        ("-1", "greater than 0"),
        ("1000000000000001", "10^15"),
        ("0.1234567890123456789", "decimal places"),
        ("abc", "Enter a number"),
        ("NaN", "Enter a number"),
        ("1" * 1000, "below 10^16"),
        ("", "Enter a number"),
    ],
)
def test_bad_amounts_are_400_with_field_error(api, amount, fragment):
    resp = create(api, symbol="BTC", amount=amount)
    assert resp.status_code == 400
    assert fragment in " ".join(resp.json()["amount"])


def test_huge_json_number_is_a_clean_400(api):
    body = '{"symbol": "BTC", "amount": ' + "9" * 1000 + "}"
    resp = api.post(URL, body, content_type="application/json")
    assert resp.status_code == 400
    assert "amount" in resp.json()


def test_negative_cost_basis_rejected(api):
    resp = create(api, symbol="BTC", amount="1", cost_basis="-5")
    assert resp.status_code == 400 and "cost_basis" in resp.json()


@pytest.mark.parametrize("symbol", ["btc", "BTC-USD", "B", "X" * 16, ""])
def test_bad_symbol_says_where_to_look(api, symbol):
    resp = create(api, symbol=symbol, amount="1")
    assert resp.status_code == 400
    message = " ".join(resp.json()["symbol"])
    # Words for a person, never an endpoint to call.
    assert message and "/api/" not in message


def test_missing_fields(api):
    resp = create(api)
    assert resp.status_code == 400
    assert set(resp.json()) >= {"symbol", "amount"}


def test_duplicate_holding_is_400_on_symbol(api):
    assert create(api, symbol="BTC", amount="1").status_code == 201
    resp = create(api, symbol="BTC", amount="2")
    assert resp.status_code == 400
    assert "already hold BTC" in " ".join(resp.json()["symbol"])


def test_rename_onto_existing_symbol_is_400(api):
    create(api, symbol="BTC", amount="1")
    pk = create(api, symbol="ETH", amount="1").json()["id"]
    resp = api.patch(f"{URL}{pk}/", {"symbol": "BTC"}, format="json")
    assert resp.status_code == 400 and "symbol" in resp.json()


def test_other_users_holdings_are_404(api, other_api, user):
    pk = create(api, symbol="BTC", amount="1").json()["id"]
    assert other_api.get(URL).json()["results"] == []
    assert other_api.get(f"{URL}{pk}/").status_code == 404
    assert (
        other_api.patch(f"{URL}{pk}/", {"amount": "9"}, format="json").status_code
        == 404
    )
    assert (
        other_api.put(
            f"{URL}{pk}/", {"symbol": "BTC", "amount": "9"}, format="json"
        ).status_code
        == 404
    )
    assert other_api.delete(f"{URL}{pk}/").status_code == 404
    assert Holding.objects.get(pk=pk).amount == 1
    # The same symbol is fine for another user.
    assert create(other_api, symbol="BTC", amount="5").status_code == 201


def test_anonymous_is_refused(anon):
    assert anon.get(URL).status_code in (401, 403)
    assert create(anon, symbol="BTC", amount="1").status_code in (401, 403)


def test_non_integer_id_is_404(api):
    assert api.get(f"{URL}abc/").status_code == 404


# -- only listed symbols (the asset registry) -----------------------------------
def test_unlisted_symbol_is_refused_in_a_users_words(api):
    resp = api.post("/api/holdings/", {"symbol": "XQZV", "amount": "1"}, format="json")
    assert resp.status_code == 400
    assert resp.json()["symbol"] == ["XQZV is not listed on Binance or Coinbase."]
    assert api.get("/api/holdings/").json()["results"] == []


def test_close_unlisted_symbol_gets_a_suggestion(api):
    resp = api.post("/api/holdings/", {"symbol": "ETHH", "amount": "1"}, format="json")
    assert resp.status_code == 400
    assert "Did you mean ETH?" in resp.json()["symbol"][0]


def test_rules_refuse_unlisted_symbols_too(api):
    resp = api.post(
        "/api/alert-rules/",
        {"kind": "price_above", "symbol": "XXXX", "threshold": "1"},
        format="json",
    )
    assert resp.status_code == 400
    assert resp.json()["symbol"] == ["XXXX is not listed on Binance or Coinbase."]
