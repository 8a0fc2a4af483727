"""Development tools outside the product: fake exchanges for tests, demos, benches.

``streaming/`` and ``portfolio/`` never import this package; it needs only
``websockets``. Run a fake with ``python -m devtools.fake_exchange --help``.
"""

from __future__ import annotations

from devtools.base import START_PRICES, FakeExchange
from devtools.binance import FakeBinance
from devtools.coinbase import FakeCoinbase
from devtools.kraken import FakeKraken

__all__ = ["START_PRICES", "FakeBinance", "FakeCoinbase", "FakeExchange", "FakeKraken"]
