"""Local stand-ins for exchange WebSocket servers, for tests, demos and benchmarks.

Nothing here is imported by the production code path; it needs only ``websockets``.
Names are loaded lazily so ``python -m streaming.testing.fake_exchange`` runs cleanly.
"""

from __future__ import annotations

import importlib
from typing import Any

__all__ = ["FakeBinance", "FakeCoinbase", "FakeExchange"]


def __getattr__(name: str) -> Any:
    if name not in __all__:
        raise AttributeError(f"module 'streaming.testing' has no attribute {name!r}")
    return getattr(importlib.import_module("streaming.testing.fake_exchange"), name)
