"""Local stand-ins for exchange WebSocket servers, for tests, demos and benchmarks.

Nothing here is imported by the production code path; it needs only ``websockets``.
"""

from __future__ import annotations

from streaming.testing.fake_exchange import FakeBinance, FakeCoinbase, FakeExchange

__all__ = ["FakeBinance", "FakeCoinbase", "FakeExchange"]
