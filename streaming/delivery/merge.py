"""Joining a backlog of price frames per room into one frame, losing nothing.

While the hub writes one frame to 1,000 sockets (tens of ms) more frames queue
up; sending the price frames of a room as ONE frame whose ``prices`` list holds
every update in order means one send per socket instead of one per frame.
"""

from __future__ import annotations

import json

from streaming.encoding import dumps

__all__ = ["merge_price_frames"]

# Every price frame starts so: WebSocketMessage.to_dict() puts "type" first and
# the one encoder writes compact separators.
_PRICE_PREFIX = '{"type":"price_update",'

Frame = tuple[str | None, str]  # (room or None for every client, serialised text)


def merge_price_frames(items: list[Frame]) -> list[Frame]:
    """Join consecutive-in-time price frames per room into one frame (order kept).

    Price frames of a room are merged into the position of its first one, but a
    non-price frame (portfolio, alert, status) closes the run first, so nothing
    overtakes anything it followed. A single frame passes through untouched.
    """
    if len(items) == 1:
        return items
    out: list[Frame] = []
    runs: dict[str | None, list[str]] = {}

    def close_runs() -> None:
        for room, texts in runs.items():
            out.append((room, texts[0] if len(texts) == 1 else _join_prices(texts)))
        runs.clear()

    for room, text in items:
        if text.startswith(_PRICE_PREFIX):
            runs.setdefault(room, []).append(text)
        else:
            close_runs()
            out.append((room, text))
    close_runs()
    return out


def _join_prices(texts: list[str]) -> str:
    # Plain json.loads: the frames were written by the one encoder, so money is
    # already exact strings; numbers that are not money round-trip unchanged.
    frames = [json.loads(t) for t in texts]
    merged = frames[-1]  # newest envelope (timestamp), every update in order
    merged["data"] = {
        **merged["data"],
        "prices": [p for f in frames for p in f["data"].get("prices", [])],
    }
    return dumps(merged)
