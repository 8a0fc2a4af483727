"""The price cache: newest price per symbol, and a symbol list not re-read per batch."""

from __future__ import annotations

import asyncio
import threading
from types import SimpleNamespace

import pytest
from django.core.cache import DEFAULT_CACHE_ALIAS, cache, caches
from django.core.cache.backends.redis import RedisCache

from streaming import price_cache


@pytest.fixture(autouse=True)
def clean():
    price_cache.clear_prices()
    yield
    price_cache.clear_prices()


def _price(symbol: str, price: str) -> dict:
    return {"symbol": symbol, "price": price, "source": "binance"}


def test_newest_price_per_symbol_is_read_back():
    price_cache.store_prices({"BTC": _price("BTC", "1.5")})
    price_cache.store_prices({"BTC": _price("BTC", "2.5"), "ETH": _price("ETH", "3")})
    prices = price_cache.get_all_prices()
    assert {s: p["price"] for s, p in prices.items()} == {"BTC": "2.5", "ETH": "3"}


def test_the_symbol_list_is_not_read_on_every_batch(monkeypatch):
    price_cache.store_prices({"BTC": _price("BTC", "1")})
    reads = []
    real_get = cache.get
    monkeypatch.setattr(
        cache, "get", lambda key, *a, **k: reads.append(key) or real_get(key, *a, **k)
    )
    for i in range(20):
        price_cache.store_prices({"BTC": _price("BTC", str(i))})
    assert price_cache.SYMBOLS_KEY not in reads
    price_cache.store_prices({"SOL": _price("SOL", "9")})  # a new symbol: listed
    assert set(price_cache.get_all_prices()) == {"BTC", "SOL"}


def test_a_flushed_cache_gets_its_symbol_list_back(monkeypatch):
    price_cache.store_prices({"BTC": _price("BTC", "1")})
    cache.delete(price_cache.SYMBOLS_KEY)  # e.g. Redis restarted under the worker
    monkeypatch.setattr(price_cache, "SYMBOLS_RECHECK", 0.0)
    price_cache.store_prices({"BTC": _price("BTC", "2")})
    assert price_cache.get_all_prices()["BTC"]["price"] == "2"


def test_the_price_path_write_is_read_by_the_cache_api(monkeypatch):
    """astore_prices: inline for local memory, this loop's asyncio client for
    Redis; never the thread kept for other backends."""
    threaded: list[tuple] = []
    submit = price_cache._writer.submit
    spy = SimpleNamespace(submit=lambda *a: threaded.append(a) or submit(*a))
    monkeypatch.setattr(price_cache, "_writer", spy)
    on_redis = isinstance(caches[DEFAULT_CACHE_ALIAS], RedisCache)

    async def write() -> bool:
        await price_cache.astore_prices({"BTC": _price("BTC", "7")})
        await price_cache.astore_prices(
            {"BTC": _price("BTC", "8"), "ETH": _price("ETH", "2")}
        )
        return asyncio.get_running_loop() in price_cache._clients

    used_asyncio_client = asyncio.run(write())
    prices = price_cache.get_all_prices()
    assert {s: p["price"] for s, p in prices.items()} == {"BTC": "8", "ETH": "2"}
    assert prices["BTC"] == _price("BTC", "8")  # the same dict, exactly
    assert threaded == []
    assert used_asyncio_client is on_redis


@pytest.fixture
def file_cache(settings, tmp_path):
    """A backend that is neither local memory nor Redis, and keeps what it is given."""
    settings.CACHES = {
        DEFAULT_CACHE_ALIAS: {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": str(tmp_path),
        }
    }


async def test_another_backend_is_written_on_the_price_paths_thread(
    file_cache, monkeypatch
):
    threads: list[str] = []
    real_store = price_cache.store_prices

    def store(prices) -> None:
        threads.append(threading.current_thread().name)
        real_store(prices)

    monkeypatch.setattr(price_cache, "store_prices", store)
    # Waits are bounded in production; here a slow disk must not skip a batch.
    monkeypatch.setattr(price_cache, "WRITE_WAIT_SECONDS", 30.0)
    await price_cache.astore_prices({"BTC": _price("BTC", "7")})
    await price_cache.astore_prices(
        {"BTC": _price("BTC", "8"), "ETH": _price("ETH", "2")}
    )
    assert len(threads) == 2
    assert all(name.startswith("price-cache") for name in threads), threads
    prices = price_cache.get_all_prices()
    assert prices == {"BTC": _price("BTC", "8"), "ETH": _price("ETH", "2")}


async def _one_wait_then_skipped(caplog) -> None:
    """A write that does not end costs one bounded wait; the next batch is skipped."""
    await price_cache.astore_prices({"BTC": _price("BTC", "1")})  # waits, bounded
    assert "price cache write slow" in caplog.text
    await price_cache.astore_prices({"BTC": _price("BTC", "2")})  # not queued
    assert "still running; skipping this batch" in caplog.text


async def test_a_hung_backend_write_costs_one_wait_then_batches_are_skipped(
    file_cache, monkeypatch, caplog
):
    release = threading.Event()
    real_store = price_cache.store_prices

    def held(prices) -> None:
        release.wait(10)  # bounded: the test releases it at once below
        real_store(prices)

    monkeypatch.setattr(price_cache, "store_prices", held)
    monkeypatch.setattr(price_cache, "WRITE_WAIT_SECONDS", 0.2)
    try:
        await _one_wait_then_skipped(caplog)
    finally:
        release.set()
        await asyncio.wrap_future(price_cache._pending)
    assert price_cache.get_all_prices() == {"BTC": _price("BTC", "1")}


async def test_a_hung_redis_costs_one_wait_then_batches_are_skipped(
    monkeypatch, caplog
):
    # A "Redis" that accepts connections and never answers.
    server = await asyncio.start_server(lambda r, w: None, "127.0.0.1", 0)
    location = f"redis://127.0.0.1:{server.sockets[0].getsockname()[1]}/0"
    config = {"default": {"LOCATION": location}}
    monkeypatch.setattr(price_cache, "caches", {"default": RedisCache(location, {})})
    monkeypatch.setattr(price_cache, "settings", SimpleNamespace(CACHES=config))
    monkeypatch.setattr(price_cache, "WRITE_WAIT_SECONDS", 0.2)
    try:
        await _one_wait_then_skipped(caplog)
    finally:
        price_cache._redis_write.cancel()
        server.close()
