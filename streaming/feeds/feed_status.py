"""Read-only views of a PriceFeedManager's state, as plain data for status pages.

A mixin so the manager's module holds only the choice and failover logic.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any

__all__ = ["FeedStatusViews"]


class FeedStatusViews:
    """Provider and symbol status of a PriceFeedManager (``_entries``, ``_active``)."""

    _entries: list[Any]
    _active: dict[str, Any]
    _last_time: dict[str, Any]
    unsupported: dict[str, list[str]]
    stale_after: float

    def _status_word(self, feed: Any) -> str:
        """The socket's status, but "stale" for an open socket that went silent.

        A primary that stops sending while its socket stays open was shown as
        "connected" for its whole silence; the data is what the user cares about.
        """
        status = feed.status.value
        if not feed.connected:
            return status
        seen = max(feed.last_seen.values(), default=None)
        if seen is not None:
            silent = time.monotonic() - seen >= self.stale_after
        else:  # connected, nothing yet: stale once it had the time to send
            since = feed.connected_since
            silent = since is not None and (
                (datetime.now(UTC) - since).total_seconds() >= self.stale_after
            )
        return "stale" if silent else status

    def get_provider_status(self) -> dict[str, dict[str, Any]]:
        """Per provider: status, counters, symbols, primary flag and symbols served."""
        serving: dict[int, list[str]] = {id(e): [] for e in self._entries}
        for symbol, entry in self._active.items():
            if entry is not None:
                serving[id(entry)].append(symbol)
        result = {}
        for entry in self._entries:
            feed = entry.feed
            result[entry.name] = {
                "status": self._status_word(feed),
                "connection": feed.status.value,
                "connected_since": (
                    feed.connected_since.isoformat() if feed.connected_since else None
                ),
                "messages": feed.messages,
                "errors": feed.errors,
                "out_of_order": feed.out_of_order,
                "symbols": list(feed.symbols),
                "unsupported": sorted(
                    set(getattr(feed, "unsupported", ()))
                    | set(self.unsupported.get(entry.name, ()))
                ),
                "is_primary": entry.is_primary,
                "serving": sorted(serving[id(entry)]),
            }
        return result

    def get_symbol_status(self) -> dict[str, dict[str, Any]]:
        """Per symbol: serving provider (None when stale), staleness, last update."""
        result = {}
        for symbol, entry in self._active.items():
            last = self._last_time.get(symbol)
            result[symbol] = {
                "source": entry.name if entry else None,
                "stale": entry is None,
                "last_update": last.isoformat() if last else None,
            }
        return result

    def get_stale_symbols(self) -> list[str]:
        """Symbols no feed currently serves (their last price is stale)."""
        return sorted(s for s, e in self._active.items() if e is None)
