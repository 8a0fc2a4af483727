"""One local socket as the hub keeps it: its rooms, counters and frame keys."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

__all__ = ["KEYS_KEPT", "Client"]

KEYS_KEPT = 2000  # frame keys remembered per socket (de-duplication window)


@dataclass(slots=True)
class Client:
    socket: Any
    user_id: int | None
    connected_at: datetime
    rooms: set[str] = field(default_factory=set)
    remote: str | None = None
    frames_sent: int = 0
    transport: Any = None  # opaque, from asgi_transport: enables backlog checks
    dropped: bool = False
    send: Any = None  # where frames are written (asgi_transport.frame_sender)
    direct: Any = None  # asgi_transport.DirectSocket: broadcasts bypass ASGI
    # Keys of the keyed frames this socket got (e.g. "alert:42"), so a frame
    # that reaches it twice (a replay on connect racing the live broadcast)
    # is written once. Bounded: oldest forgotten first.
    keys: set[str] = field(default_factory=set)
    key_order: deque[str] = field(default_factory=deque)

    def claim(self, key: str | None) -> bool:
        """True if the frame with ``key`` is new to this socket (and note it)."""
        if key is None:
            return True
        if key in self.keys:
            return False
        self.keys.add(key)
        self.key_order.append(key)
        if len(self.key_order) > KEYS_KEPT:
            self.keys.discard(self.key_order.popleft())
        return True

    def info(self, client_id: str) -> dict[str, Any]:
        return {
            "client_id": client_id,
            "user_id": self.user_id,
            "connected_at": self.connected_at.isoformat(),
            "rooms": sorted(self.rooms),
            "remote": self.remote,
            "frames_sent": self.frames_sent,
            "channel_name": getattr(self.socket, "channel_name", None),
            "local": True,
        }

    def presence_fields(self, client_id: str) -> dict[str, str]:
        return {
            "client_id": client_id,
            "user_id": "" if self.user_id is None else str(self.user_id),
            "connected_at": self.connected_at.isoformat(),
            "remote": self.remote or "",
            "channel_name": getattr(self.socket, "channel_name", "") or "",
        }
