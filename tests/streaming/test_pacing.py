"""Reconnect pacing of the price feeds: back within 15 s, inside Binance's limits."""

from __future__ import annotations

import random

from streaming.feeds.binance import BinancePriceFeed
from streaming.feeds.coinbase import CoinbasePriceFeed
from streaming.pacing import PRICE_FEED_MAX_RECONNECT_DELAY, Backoff

BINANCE_ATTEMPTS_PER_5_MIN = 300


def test_price_feeds_cap_their_backoff_so_prices_return_within_15_s():
    assert PRICE_FEED_MAX_RECONNECT_DELAY <= 10.0
    for feed in (BinancePriceFeed(["BTC"]), CoinbasePriceFeed(["BTC"])):
        assert feed.max_reconnect_delay == PRICE_FEED_MAX_RECONNECT_DELAY


def test_capped_delays_stay_jittered_and_under_the_cap():
    random.seed(5)
    backoff = Backoff(1.0, PRICE_FEED_MAX_RECONNECT_DELAY)
    delays = [backoff.next_delay() for _ in range(200)]
    at_cap = delays[10:]
    assert max(delays) <= PRICE_FEED_MAX_RECONNECT_DELAY
    assert min(at_cap) >= 0.8 * PRICE_FEED_MAX_RECONNECT_DELAY
    assert len({round(d, 6) for d in at_cap}) > 100  # never one shared instant


def test_an_outage_of_any_length_stays_inside_binances_connection_limit():
    random.seed(9)
    backoff = Backoff(1.0, PRICE_FEED_MAX_RECONNECT_DELAY)
    elapsed, attempts = 0.0, 1
    while elapsed < 300:  # the worst 5 minutes: from the first failure
        elapsed += backoff.next_delay()
        attempts += 1
    # one socket per 1024 streams: even 5 sockets stay under the limit
    assert attempts * 5 < BINANCE_ATTEMPTS_PER_5_MIN
