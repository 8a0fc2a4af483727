"""GET /api/portfolio/ serves each owner's replayed positions from the cache, and
every kind of ledger write shows at once, for that owner only.

Transactional tests: the view must run outside a transaction (as it does in
production) for the cache to be used, and the writes' commit hooks, which
invalidate, must really run.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from django.core.cache import cache
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from portfolio import services
from portfolio.ledger import position_cache, selectors
from portfolio.ledger import services as ledger_services
from portfolio.ledger.models import Transaction

pytestmark = pytest.mark.django_db(transaction=True)

PORTFOLIO = "/api/portfolio/"
TXNS = "/api/transactions/"


def _forget(owner_id: int) -> None:
    """Keys a previous run (same ids, shared Redis) may have left behind."""
    cache.delete_many(
        [position_cache._version_key(owner_id), position_cache._entry_key(owner_id)]
    )


@pytest.fixture(autouse=True)
def fresh_keys(user, other_user):
    for owner in (user, other_user):
        _forget(owner.pk)
    yield
    for owner in (user, other_user):
        _forget(owner.pk)


@pytest.fixture
def replays(monkeypatch) -> list[int]:
    """Owner ids of every ledger replay the cache asked for, in order."""
    calls: list[int] = []
    real = selectors.positions

    def spy(*, owner):
        calls.append(owner.pk)
        return real(owner=owner)

    monkeypatch.setattr(selectors, "positions", spy)
    return calls


def add(api, kind: str, amount: str, when: str, price: str | None = "100", **extra):
    body = {"kind": kind, "symbol": "BTC", "amount": amount, "executed_at": when}
    if price is not None:
        body["price"] = price
    resp = api.post(TXNS, {**body, **extra}, format="json")
    assert resp.status_code == 201, resp.content
    return resp.json()


def buy(owner, amount: str, when: datetime) -> None:
    ledger_services.transaction_create(
        owner=owner,
        kind="buy",
        symbol="BTC",
        amount=Decimal(amount),
        price=Decimal("100"),
        executed_at=when,
    )


def held(api) -> dict[str, tuple[str, str | None]]:
    rows = api.get(PORTFOLIO).json()["holdings"]
    return {r["symbol"]: (r["amount"], r["cost_basis"]) for r in rows}


def test_second_request_is_served_from_the_cache(api, user, replays):
    add(api, "buy", "1.5", "2024-01-01T00:00:00Z")
    first = api.get(PORTFOLIO).json()
    second = api.get(PORTFOLIO).json()
    assert replays == [user.pk]  # the second request did not replay the ledger
    assert first["holdings"] == second["holdings"]
    assert second["holdings"][0]["amount"] == "1.5"


@pytest.mark.parametrize("write", ["add", "edit", "delete", "import", "cost_method"])
def test_each_ledger_write_shows_at_once_for_its_owner_only(
    api, other_api, user, other_user, replays, write
):
    add(api, "buy", "1", "2024-01-01T00:00:00Z", "100")
    second = add(api, "buy", "1", "2024-01-10T00:00:00Z", "300")
    add(api, "sell", "1", "2024-02-01T00:00:00Z", "500")
    add(other_api, "buy", "7", "2024-01-01T00:00:00Z", "10")
    assert held(api) == {"BTC": ("1", "300")}  # FIFO: the sell took the 100 lot
    assert held(other_api) == {"BTC": ("7", "70")}
    replays.clear()
    other_token = cache.get(position_cache._version_key(other_user.pk))

    if write == "add":
        add(api, "buy", "1", "2024-03-01T00:00:00Z", "400")
        expected = {"BTC": ("2", "700")}
    elif write == "edit":
        resp = api.patch(f"{TXNS}{second['id']}/", {"amount": "3"}, format="json")
        assert resp.status_code == 200, resp.content
        expected = {"BTC": ("3", "900")}
    elif write == "delete":
        assert api.delete(f"{TXNS}{second['id']}/").status_code == 204
        expected = {}  # the sell now closes the position
    elif write == "import":
        csv = b"executed_at,kind,symbol,amount,price\n2024-03-01,buy,BTC,0.25,80\n"
        file = SimpleUploadedFile("ledger.csv", csv, content_type="text/csv")
        resp = api.post(f"{TXNS}import/", {"file": file}, format="multipart")
        assert resp.status_code == 201, resp.content
        expected = {"BTC": ("1.25", "320")}
    else:
        resp = api.patch("/api/ledger/settings/", {"cost_method": "average"})
        assert resp.status_code == 200, resp.content
        expected = {"BTC": ("1", "200")}

    assert held(api) == expected
    assert held(other_api) == {"BTC": ("7", "70")}
    assert cache.get(position_cache._version_key(other_user.pk)) == other_token
    assert other_user.pk not in replays  # the other owner's entry stayed valid


@pytest.mark.parametrize("write", ["create", "update", "delete"])
def test_holdings_api_writes_show_at_once(api, user, write):
    resp = api.post(
        "/api/holdings/", {"symbol": "ETH", "amount": "2", "cost_basis": "10"}
    )
    assert resp.status_code == 201, resp.content
    holding_id = resp.json()["id"]
    assert held(api) == {"ETH": ("2", "10")}
    if write == "create":
        resp = api.post("/api/holdings/", {"symbol": "SOL", "amount": "3"})
        assert resp.status_code == 201, resp.content
        assert held(api) == {"ETH": ("2", "10"), "SOL": ("3", None)}
    elif write == "update":
        url = f"/api/holdings/{holding_id}/"
        resp = api.patch(url, {"amount": "5", "cost_basis": "40"})
        assert resp.status_code == 200, resp.content
        assert held(api) == {"ETH": ("5", "40")}
    else:
        assert api.delete(f"/api/holdings/{holding_id}/").status_code == 204
        assert held(api) == {}


def test_writes_outside_the_services_invalidate_too(api, user):
    """The admin, a shell or a management command save rows directly."""
    add(api, "buy", "1", "2024-01-01T00:00:00Z")
    assert held(api) == {"BTC": ("1", "100")}
    row = Transaction.objects.get(owner=user)
    row.amount = Decimal("4")
    row.save()
    assert held(api) == {"BTC": ("4", "400")}
    Transaction.objects.filter(owner=user).delete()
    assert held(api) == {}


def test_refused_and_dry_run_writes_change_nothing(api, user, replays):
    add(api, "buy", "1", "2024-01-01T00:00:00Z")
    assert held(api) == {"BTC": ("1", "100")}
    sell = {"kind": "sell", "symbol": "BTC", "amount": "5", "price": "1"}
    resp = api.post(
        TXNS, {**sell, "executed_at": "2024-02-01T00:00:00Z"}, format="json"
    )
    assert resp.status_code == 400, resp.content  # more than is held
    csv = b"executed_at,kind,symbol,amount,price\n2024-03-01,buy,BTC,9,80\n"
    file = SimpleUploadedFile("ledger.csv", csv, content_type="text/csv")
    resp = api.post(f"{TXNS}import/", {"file": file, "dry_run": "true"})
    assert resp.status_code == 200 and resp.json()["created"] == 1
    replays.clear()
    assert held(api) == {"BTC": ("1", "100")}
    assert replays == []  # rolled back: nothing was invalidated


def test_a_replay_overtaken_by_a_write_is_never_served(user, monkeypatch):
    """A reader replays the old ledger, a write commits, the reader stores its
    (now stale) result: the next read must not get it."""
    buy(user, "1", datetime(2024, 1, 1, tzinfo=UTC))
    real = selectors.positions

    def replay_then_write(*, owner):
        old = real(owner=owner)
        monkeypatch.setattr(selectors, "positions", real)
        buy(user, "2", datetime(2024, 1, 2, tzinfo=UTC))
        return old

    monkeypatch.setattr(selectors, "positions", replay_then_write)
    assert position_cache.positions(owner=user)[0].amount == Decimal("1")
    assert position_cache.positions(owner=user)[0].amount == Decimal("3")


def test_an_evicted_version_never_revives_an_old_entry(api, user, replays):
    add(api, "buy", "1", "2024-01-01T00:00:00Z")
    held(api)
    cache.delete(position_cache._version_key(user.pk))  # e.g. culled by LocMem
    assert held(api) == {"BTC": ("1", "100")}
    assert replays == [user.pk, user.pk]


def test_inside_a_transaction_nothing_is_cached(user, replays):
    class Rollback(Exception):
        pass

    with pytest.raises(Rollback), transaction.atomic():
        services.holding_create(owner=user, symbol="BTC", amount=Decimal("1"))
        assert position_cache.positions(owner=user)[0].amount == Decimal("1")
        raise Rollback
    assert position_cache.positions(owner=user) == []
    assert position_cache.positions(owner=user) == []
    assert replays == [user.pk, user.pk]  # the rolled-back read was not stored


def test_decimals_round_trip_exactly_through_the_cache(user, replays):
    amount = Decimal("12345678.123456789012345678")
    cost = Decimal("98765432109876.123456789012345678")
    services.holding_create(owner=user, symbol="BTC", amount=amount, cost_basis=cost)
    fresh = position_cache.positions(owner=user)
    cached = position_cache.positions(owner=user)
    assert replays == [user.pk]
    assert cached == fresh
    assert (cached[0].amount, cached[0].cost_basis) == (amount, cost)
    assert str(cached[0].amount) == str(fresh[0].amount)
    assert all(type(v) is Decimal for v in (cached[0].amount, cached[0].cost_basis))


def test_a_cached_request_costs_one_query_the_token(user, django_assert_num_queries):
    services.holding_create(owner=user, symbol="BTC", amount=Decimal("1"))
    client = APIClient()
    token = Token.objects.create(user=user)
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    assert client.get(PORTFOLIO).status_code == 200  # replays, fills the cache
    with django_assert_num_queries(1):  # the token lookup; no ledger, no settings
        body = client.get(PORTFOLIO).json()
    assert body["holdings"][0]["amount"] == "1"


def test_a_cache_that_cannot_be_told_never_fails_a_committed_write(
    api, user, monkeypatch, caplog
):
    """The write is saved: a 500 would make the user enter it again."""
    real_set = cache.set

    def refuse_versions(key, *args, **kwargs):
        if key == position_cache._version_key(user.pk):
            raise ConnectionError("cache server down")
        return real_set(key, *args, **kwargs)

    monkeypatch.setattr(cache, "set", refuse_versions)
    with caplog.at_level("ERROR", logger="portfolio.ledger.position_cache"):
        add(api, "buy", "2", "2024-01-01T00:00:00Z")  # asserts 201
    assert Transaction.objects.filter(owner=user).count() == 1
    assert "could not be invalidated" in caplog.text
