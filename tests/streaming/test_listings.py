"""The asset registry: listings fetched from (fake, local) exchange REST endpoints."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from streaming.feeds.listings import (
    AssetRegistry,
    exchange_names,
    parse_binance_exchange_info,
    parse_coinbase_products,
    parse_kraken_asset_pairs,
)

EXCHANGE_INFO = {
    "symbols": [
        {
            "symbol": "BTCUSDT",
            "status": "TRADING",
            "baseAsset": "BTC",
            "quoteAsset": "USDT",
        },  # noqa: E501
        {
            "symbol": "NEWUSDT",
            "status": "TRADING",
            "baseAsset": "NEW",
            "quoteAsset": "USDT",
        },  # noqa: E501
        {
            "symbol": "OLDUSDT",
            "status": "BREAK",
            "baseAsset": "OLD",
            "quoteAsset": "USDT",
        },  # noqa: E501
        {
            "symbol": "ETHBTC",
            "status": "TRADING",
            "baseAsset": "ETH",
            "quoteAsset": "BTC",
        },  # noqa: E501
    ]
}
PRODUCTS = [
    {
        "id": "BTC-USD",
        "base_currency": "BTC",
        "quote_currency": "USD",
        "status": "online",
        "trading_disabled": False,
    },  # noqa: E501
    {
        "id": "CBX-USD",
        "base_currency": "CBX",
        "quote_currency": "USD",
        "status": "online",
        "trading_disabled": False,
    },  # noqa: E501
    {
        "id": "OFF-USD",
        "base_currency": "OFF",
        "quote_currency": "USD",
        "status": "online",
        "trading_disabled": True,
    },  # noqa: E501
    {
        "id": "ETH-EUR",
        "base_currency": "ETH",
        "quote_currency": "EUR",
        "status": "online",
        "trading_disabled": False,
    },  # noqa: E501
]


ASSET_PAIRS = {
    "error": [],
    "result": {
        "XXBTZUSD": {"altname": "XBTUSD", "wsname": "XBT/USD", "status": "online"},
        "XDGUSD": {"altname": "XDGUSD", "wsname": "XDG/USD", "status": "online"},
        "SOLUSD": {"altname": "SOLUSD", "wsname": "SOL/USD", "status": "online"},
        "HALTUSD": {"altname": "HALTUSD", "wsname": "HALT/USD", "status": "delisted"},
        "XETHXXBT": {"altname": "ETHXBT", "wsname": "ETH/XBT", "status": "online"},
    },
}


class FakeRest:
    """A local HTTP server answering the two listing endpoints; counts requests."""

    def __init__(self) -> None:
        self.hits: list[str] = []
        self.up = True
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - http.server's name
                fake.hits.append(self.path)
                if not fake.up:
                    self.send_error(503)
                    return
                if "AssetPairs" in self.path:
                    body = ASSET_PAIRS
                elif "exchangeInfo" in self.path:
                    body = EXCHANGE_INFO
                else:
                    body = PRODUCTS
                data = json.dumps(body).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def urls(self) -> dict[str, str]:
        return {
            "binance": self.url + "/api/v3/exchangeInfo",
            "coinbase": self.url + "/products",
            "kraken": self.url + "/0/public/AssetPairs",
        }

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def rest() -> Iterator[FakeRest]:
    server = FakeRest()
    yield server
    server.close()


def test_parsers_keep_trading_pairs_in_the_quote_currency():
    assert parse_binance_exchange_info(EXCHANGE_INFO) == {"BTC", "NEW"}
    assert parse_coinbase_products(PRODUCTS) == {"BTC", "CBX"}
    with pytest.raises(ValueError):
        parse_binance_exchange_info({"unexpected": 1})


def test_kraken_pairs_use_the_common_names_and_only_online_usd():
    # Kraken's REST still says XBT and XDG; its WebSocket v2 says BTC and DOGE.
    assert parse_kraken_asset_pairs(ASSET_PAIRS) == {"BTC", "DOGE", "SOL"}
    with pytest.raises(ValueError):
        parse_kraken_asset_pairs({"error": ["EGeneral:Internal error"], "result": {}})


def test_kraken_listing_is_fetched_and_words_refusals(rest):
    registry = AssetRegistry(urls=rest.urls(), timeout=2)
    assert registry.listed("kraken") == {"BTC", "DOGE", "SOL"}
    assert registry.where_listed("DOGE", ["binance", "kraken"]) == ["kraken"]
    message = registry.unlisted_message("HALT", ["kraken"])
    assert message.startswith("HALT is not listed on Kraken.")


def test_shipped_snapshot_knows_kraken():
    registry = AssetRegistry(fetch=False)
    assert {"BTC", "ETH", "SOL"} <= registry.listed("kraken")
    assert registry.origin("kraken") == "snapshot"


def test_lists_are_fetched_from_the_exchanges_and_cached(rest):
    registry = AssetRegistry(urls=rest.urls(), timeout=2)
    assert registry.listed("binance") == {"BTC", "NEW"}
    assert registry.listed("coinbase") == {"BTC", "CBX"}
    assert registry.origin("binance") == "exchange"
    registry.listed("binance")
    assert len(rest.hits) == 2  # cached: one request per exchange
    assert registry.where_listed("NEW", ["binance", "coinbase"]) == ["binance"]


def test_unreachable_exchange_falls_back_to_the_shipped_snapshot(unused_tcp_port):
    dead = f"http://127.0.0.1:{unused_tcp_port}/products"
    registry = AssetRegistry(urls={"coinbase": dead}, timeout=1)
    listed = registry.listed("coinbase")
    assert "BTC" in listed and "ETH" in listed
    assert registry.origin("coinbase") == "snapshot"


def test_a_list_fetched_earlier_outlives_an_outage(rest):
    registry = AssetRegistry(urls=rest.urls(), timeout=2, ttl=0)
    assert registry.listed("coinbase") == {"BTC", "CBX"}
    rest.up = False
    assert registry.listed("coinbase") == {"BTC", "CBX"}


def test_messages_in_a_users_words_with_a_suggestion():
    registry = AssetRegistry(fetch=False)
    both = ["binance", "coinbase"]
    assert registry.unlisted_message("BTC", both) is None
    assert registry.unlisted_message("XQZV", both) == (
        "XQZV is not listed on Binance or Coinbase."
    )
    assert registry.unlisted_message("BTCC", both) == (
        "BTCC is not listed on Binance or Coinbase. Did you mean BTC?"
    )
    assert exchange_names(["binance", "coinbase", "kraken"]) == (
        "Binance, Coinbase or Kraken"
    )


def test_shipped_snapshot_lists_the_watched_defaults():
    path = Path(__file__).parents[2] / "streaming/feeds/listings_snapshot.json"
    snapshot = json.loads(path.read_text())
    for symbol in ("BTC", "ETH", "SOL"):
        assert symbol in snapshot["binance"] and symbol in snapshot["coinbase"]
