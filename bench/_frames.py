"""The browser frame both baselines send: the same shape (and bytes) as the app's price
frame.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime


def price_from_binance(raw: str) -> dict | None:
    obj = json.loads(raw)
    d = obj.get("data")
    if not d or d.get("e") != "24hrTicker":
        return None
    return {
        "symbol": d["s"].removesuffix("USDT"),
        "price": d["c"],
        "timestamp": datetime.fromtimestamp(d["E"] / 1000, UTC).isoformat(),
        "volume_24h": d["v"],
        "change_24h": d["p"],
        "change_percent_24h": d["P"],
        "source": "binance",
    }


def frame(prices: list[dict]) -> dict:
    return {
        "type": "price_update",
        "data": {"prices": prices},
        "client_id": None,
        "room": "prices",
        "timestamp": datetime.now(UTC).isoformat(),
    }


def frame_text(prices: list[dict]) -> str:
    return json.dumps(frame(prices), separators=(",", ":"))
