"""The broadcast writer: frame once, write many, and cut readers that fall behind.

A broadcast to 1,000 sockets is framed ONCE (:func:`asgi_transport.text_frame`)
and the same bytes are written to every member that has a direct-write handle
(an open, uncompressed daphne socket); the others, and every frame for one
client, take the ASGI ``send``. Every ``BACKLOG_CHECK_EVERY`` frames a socket's
backlog is looked at: Twisted's unsent buffer plus what the kernel still holds
in its send queue. Above ``WS_MAX_CLIENT_BACKLOG_BYTES`` the connection is
aborted, so a reader that stopped reading costs at most that much memory and
never delays the others (writes never wait for a socket).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any

from django.conf import settings

from . import asgi_transport

logger = logging.getLogger(__name__)

__all__ = ["BACKLOG_CHECK_EVERY", "FrameWriter"]

BACKLOG_CHECK_EVERY = 8  # frames between two looks at a socket's unsent bytes


class FrameWriter:
    """Writes frames to local clients (the hub's ``_Client``s) and counts them."""

    def __init__(self) -> None:
        self.frames_delivered = 0
        self.send_errors = 0
        self.slow_clients_dropped = 0

    async def broadcast(self, clients: Iterable[Any], text: str) -> int:
        """One serialised frame to every client; returns how many it was written to."""
        frame: bytes | None = None
        write_frame = asgi_transport.write_frame
        bound = settings.WS_MAX_CLIENT_BACKLOG_BYTES  # a lazy object: read once
        sent = direct_sent = 0
        for client in clients:
            if client.dropped:
                continue
            direct = client.direct
            if direct is not None:
                if frame is None:  # framed once, for the first direct socket
                    frame = asgi_transport.text_frame(text)
                if write_frame(direct, frame):
                    # _written, inline: this loop runs per socket per frame
                    client.frames_sent += 1
                    direct_sent += 1
                    if not client.frames_sent % BACKLOG_CHECK_EVERY:
                        self.check_backlog(client, bound)
                    continue
            if await self.send_text(client, text):
                sent += 1
        self.frames_delivered += direct_sent
        return sent + direct_sent

    async def send_text(self, client: Any, text: str) -> bool:
        """One frame through the ASGI ``send`` (past the session wrapper)."""
        if client.dropped:
            return False
        try:
            send = client.send or client.socket.base_send
            await send({"type": "websocket.send", "text": text})
        except Exception:  # noqa: BLE001 - one dead socket must not stop the rest
            self.send_errors += 1
            logger.debug("send to a closed socket dropped", exc_info=True)
            return False
        self._written(client)
        return True

    def _written(self, client: Any) -> None:
        client.frames_sent += 1
        self.frames_delivered += 1
        if client.transport is not None and not (
            client.frames_sent % BACKLOG_CHECK_EVERY
        ):
            self.check_backlog(client)

    def check_backlog(self, client: Any, bound: int | None = None) -> bool:
        """Abort a socket whose reader fell too far behind; True if it was cut."""
        transport = client.transport
        if transport is None:
            return False
        backlog = asgi_transport.unsent_bytes(transport)
        backlog += asgi_transport.kernel_unsent(transport)
        if bound is None:
            bound = settings.WS_MAX_CLIENT_BACKLOG_BYTES
        if backlog <= bound:
            return False
        client.dropped = True
        self.slow_clients_dropped += 1
        logger.warning(
            "Disconnecting slow client %s (user %s): %d bytes unsent > %d",
            client.remote,
            client.user_id,
            backlog,
            bound,
        )
        asgi_transport.abort(transport)
        return True
