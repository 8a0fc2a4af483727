"""API manners: 401 with a challenge, JSON for every error, words for people."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from .helpers import price

pytestmark = pytest.mark.django_db

HOLDINGS = "/api/holdings/"


@pytest.mark.parametrize("path", ["/api/holdings/", "/api/portfolio/", "/api/prices/"])
def test_missing_credentials_are_401_with_a_challenge(anon, path):
    resp = anon.get(path)
    assert resp.status_code == 401
    assert resp["WWW-Authenticate"] == "Token"
    assert resp.json()["detail"]


def test_invalid_token_is_401_with_a_challenge():
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Token not-a-real-token")
    resp = client.get(HOLDINGS)
    assert resp.status_code == 401
    assert resp["WWW-Authenticate"] == "Token"
    assert "token" in resp.json()["detail"].lower()


def test_wrong_password_for_a_token_is_401(user):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Basic YWxpY2U6d3Jvbmc=")  # alice:wrong
    resp = client.post("/api/auth/token/")
    assert resp.status_code == 401 and "WWW-Authenticate" in resp


def test_logged_in_but_not_staff_is_still_403(api):
    resp = api.get("/api/streams/status/")
    assert resp.status_code == 403 and resp.json()["detail"]


@pytest.mark.parametrize(
    "path",
    [
        "/api/nothing-here/",
        "/api/holdings/abc/",
        "/api/holdings/99999999999999999999999/",
        "/api/alerts/1.5/",
        "/api/holdings/123456/",
    ],
)
def test_unknown_paths_and_bad_ids_are_json_404(api, path):
    resp = api.get(path)
    assert resp.status_code == 404
    assert resp["Content-Type"].startswith("application/json")
    assert resp.json()["detail"]


def test_unknown_path_is_json_even_for_anonymous_posts(anon):
    resp = anon.post("/api/nope/", {}, format="json")
    assert resp.status_code == 404 and resp.json()["detail"]


def test_missing_slash_is_pointed_out(api):
    resp = api.get("/api/holdings")
    assert resp.status_code == 404
    assert "/api/holdings/" in resp.json()["detail"]


def test_oversized_body_is_json_413(api, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    body = '{"symbol": "BTC", "amount": "1", "pad": "' + "x" * 2000 + '"}'
    resp = api.post(HOLDINGS, body, content_type="application/json")
    assert resp.status_code == 413
    assert "too large" in resp.json()["detail"]


def test_method_not_allowed_is_json(api):
    resp = api.put("/api/portfolio/", {}, format="json")
    assert resp.status_code == 405 and resp.json()["detail"]


def test_pages_outside_the_api_keep_html_errors(client):
    resp = client.get("/no-such-page/")
    assert resp.status_code == 404
    assert "json" not in resp["Content-Type"]


@pytest.mark.parametrize(
    "amount, words",
    [
        ("1e400", "below 10^16"),
        ("99999999999999999", "below 10^16"),
        ("0.1234567890123456789", "at most 18 decimal places"),
        ("abc", "Enter a number"),
    ],
)
def test_number_errors_in_a_users_words(api, amount, words):
    resp = api.post(HOLDINGS, {"symbol": "BTC", "amount": amount}, format="json")
    assert resp.status_code == 400
    message = " ".join(resp.json()["amount"])
    assert words in message
    assert "digits in total" not in message and "/api/" not in message


# -- watch list -----------------------------------------------------------------
WATCH = "/api/watchlist/"


def test_watch_list_add_list_remove(api):
    resp = api.post(WATCH, {"symbol": "ADA"}, format="json")
    assert resp.status_code == 201, resp.content
    entry = resp.json()
    assert entry["symbol"] == "ADA"
    assert [e["symbol"] for e in api.get(WATCH).json()["results"]] == ["ADA"]
    assert api.delete(f"{WATCH}{entry['id']}/").status_code == 204
    assert api.get(WATCH).json()["results"] == []


def test_watch_list_refuses_unlisted_and_duplicates(api):
    resp = api.post(WATCH, {"symbol": "XQZV"}, format="json")
    assert resp.status_code == 400
    assert "not listed" in " ".join(resp.json()["symbol"])
    assert api.post(WATCH, {"symbol": "ADA"}, format="json").status_code == 201
    again = api.post(WATCH, {"symbol": "ADA"}, format="json")
    assert again.status_code == 400
    assert "already watch ADA" in " ".join(again.json()["symbol"])


def test_watch_list_is_private(api, other_api):
    entry = api.post(WATCH, {"symbol": "ADA"}, format="json").json()
    assert other_api.get(WATCH).json()["results"] == []
    assert other_api.delete(f"{WATCH}{entry['id']}/").status_code == 404


def test_prices_include_my_watch_list_not_others(api, other_api, seed_prices, settings):
    settings.WATCH_SYMBOLS = ["BTC"]
    seed_prices(price("ADA", "0.45", source="mock", age=100), price("BTC", "1"))
    other_api.post(WATCH, {"symbol": "DOGE"}, format="json")
    api.post(WATCH, {"symbol": "ADA"}, format="json")
    rows = {r["symbol"]: r for r in api.get("/api/prices/").json()}
    assert set(rows) == {"BTC", "ADA"}
    assert rows["ADA"]["simulated"] is True and rows["ADA"]["stale"] is True


def test_streamed_symbols_include_every_watch_list(api, settings):
    from portfolio import selectors

    settings.WATCH_SYMBOLS = ["BTC"]
    before = selectors.holdings_fingerprint()
    api.post(WATCH, {"symbol": "ADA"}, format="json")
    assert selectors.holdings_fingerprint() != before
    assert selectors.watched_symbols() == ["ADA", "BTC"]


# -- token state (the page shows the key once) ------------------------------------
def test_token_state_never_shows_the_key(api):
    assert api.get("/api/auth/token/").json() == {"exists": False, "created": None}
    key = api.post("/api/auth/token/").json()["token"]
    state = api.get("/api/auth/token/").json()
    assert state["exists"] is True and state["created"]
    assert key not in str(state)
    assert api.delete("/api/auth/token/").status_code == 204
    assert api.get("/api/auth/token/").json()["exists"] is False
