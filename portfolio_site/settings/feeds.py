"""Settings of the live worker: price feeds, exchanges, WebSocket limits.

Part of the settings package (portfolio_site.settings): every environment read
of the project stays in these modules.
"""

from __future__ import annotations

import environ

env = environ.Env()

# --- Streaming / feeds ------------------------------------------------------------
PRICE_FEEDS = env.list("PRICE_FEEDS", default=["binance", "coinbase"])
WATCH_SYMBOLS = env.list("WATCH_SYMBOLS", default=["BTC", "ETH", "SOL"])
PRICE_PUBLISH_INTERVAL = env.float("PRICE_PUBLISH_INTERVAL", default=0.25)
PRICE_STALE_AFTER = env.float("PRICE_STALE_AFTER", default=10.0)
FEED_STARTUP_WINDOW = env.float("FEED_STARTUP_WINDOW", default=15.0)
PORTFOLIO_SNAPSHOT_INTERVAL = env.float("PORTFOLIO_SNAPSHOT_INTERVAL", default=60.0)
# Per-user quotas: every rule is checked on every price of its symbol.
MAX_ALERT_RULES_PER_USER = env.int("MAX_ALERT_RULES_PER_USER", default=100)
MAX_HOLDINGS_PER_USER = env.int("MAX_HOLDINGS_PER_USER", default=200)
# Expiry of the run_feeds leader lock (Redis); a standby takes over within it.
WORKER_LOCK_TTL = env.float("WORKER_LOCK_TTL", default=10.0)
BINANCE_WS_URL = env.str("BINANCE_WS_URL", default="wss://stream.binance.com:9443")
COINBASE_WS_URL = env.str(
    "COINBASE_WS_URL", default="wss://ws-feed.exchange.coinbase.com"
)
KRAKEN_WS_URL = env.str("KRAKEN_WS_URL", default="wss://ws.kraken.com/v2")
# The asset registry (streaming/feeds/listings.py): the exchanges' public
# listings, fetched when reachable; ASSET_LISTINGS_FETCH=0 keeps to the
# shipped snapshot (offline installs, tests).
ASSET_LISTINGS_FETCH = env.bool("ASSET_LISTINGS_FETCH", default=True)
ASSET_LISTING_URLS = {
    "binance": env.str("BINANCE_REST_URL", default=""),
    "coinbase": env.str("COINBASE_REST_URL", default=""),
    "kraken": env.str("KRAKEN_REST_URL", default=""),
}
# Value-history candles (streaming/feeds/candles.py) from the same REST bases;
# CANDLES_FETCH=0: stored ones only. A fill is at most CANDLES_MAX_REQUESTS pages.
CANDLES_FETCH = env.bool("CANDLES_FETCH", default=True)
CANDLE_PROVIDERS = env.list(
    "CANDLE_PROVIDERS", default=["binance", "coinbase", "kraken"]
)
CANDLE_URLS = ASSET_LISTING_URLS
CANDLES_TIMEOUT = env.float("CANDLES_TIMEOUT", default=5.0)
CANDLES_MAX_REQUESTS = env.int("CANDLES_MAX_REQUESTS", default=12)
WS_MAX_FRAME_BYTES = env.int("WS_MAX_FRAME_BYTES", default=16384)
# Open /ws/stream/ sockets one client address may hold per server process.
WS_MAX_CONNECTIONS_PER_ADDRESS = env.int("WS_MAX_CONNECTIONS_PER_ADDRESS", default=50)
# A client that reads nothing is disconnected once this many bytes wait unsent
# in its socket buffer (streaming/delivery/hub.py); the others are not held up.
WS_MAX_CLIENT_BACKLOG_BYTES = env.int("WS_MAX_CLIENT_BACKLOG_BYTES", default=2**20)

# Request bodies: the API's are a few hundred bytes; anything over this is a
# clean 400 (RequestDataTooBig), never read into memory.
DATA_UPLOAD_MAX_MEMORY_SIZE = env.int("DATA_UPLOAD_MAX_MEMORY_SIZE", default=256 * 1024)
DATA_UPLOAD_MAX_NUMBER_FIELDS = 1000
