"""The one place that knows the daphne, Twisted and Channels internals the hub uses.

The hub's hot path reaches past two public APIs, and only here:

* **Frames past Channels' session wrapper.** ``SessionMiddleware`` wraps
  ``send`` only to save the session and set its cookie on
  ``http.response.start``; a ``websocket.send`` goes straight through, after
  two lazy-object lookups per frame. At 1,000 sockets per broadcast that is
  measurable (bench/fanout.py), so frames are written to the wrapped ``send``
  (``InstanceSessionWrapper.real_send``).
* **Close codes autobahn refuses.** daphne turns an ASGI ``websocket.close``
  into autobahn's ``sendClose``, which accepts only 1000 and 3000-4999, so
  1001 (going away), 1008 (policy) and 1009 (too big) raise instead of being
  sent. Those are written with autobahn's ``sendCloseFrame`` instead.
* **Unsent bytes of a slow reader.** Under daphne a consumer's ``send`` is
  ``functools.partial(server.handle_reply, protocol)``; ``protocol.transport``
  is a Twisted ``FileDescriptor`` whose write buffer (``dataBuffer``,
  ``offset``, ``_tempDataLen``) grows without bound when the browser stops
  reading. The hub reads its size to cut such a client off.

Each has a guard that checks what it needs is present and otherwise falls back
to the public path (``base_send``, no backlog check): other ASGI servers, test
communicators and library versions whose internals moved. The tests in
``tests/streaming/delivery/test_asgi_transport.py`` fail when a guard stops
matching the pinned versions, rather than the hub silently losing its checks.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Awaitable, Callable
from typing import Any

logger = logging.getLogger(__name__)

__all__ = [
    "Send",
    "abort",
    "close_with_code",
    "frame_sender",
    "session_wrapper_skippable",
    "transport_of",
    "unsent_bytes",
]

Send = Callable[[dict[str, Any]], Awaitable[None]]

# How deep ASGI middleware may nest ``send`` wrappers before we give up looking.
_MAX_WRAPPERS = 4
# The Twisted FileDescriptor write-buffer fields and their types.
_BUFFER_FIELDS: tuple[tuple[str, type], ...] = (
    ("dataBuffer", bytes),
    ("offset", int),
    ("_tempDataLen", int),
)
# Frame types the session wrapper must leave alone for skipping it to be safe.
_FRAME_TYPES = ("websocket.send", "websocket.close")


@functools.cache
def session_wrapper_skippable() -> bool:
    """Whether Channels' session wrapper still passes websocket frames untouched."""
    try:
        from channels.sessions import InstanceSessionWrapper
    except ImportError:
        return False
    acts_on = [
        *getattr(InstanceSessionWrapper, "save_message_types", [_FRAME_TYPES[0]]),
        *getattr(InstanceSessionWrapper, "cookie_response_message_types", []),
    ]
    wraps = callable(getattr(InstanceSessionWrapper, "send", None))
    ok = wraps and not any(kind in acts_on for kind in _FRAME_TYPES)
    if not ok:
        logger.warning("channels' session wrapper changed: frames go via base_send")
    return ok


def frame_sender(socket: Any) -> Send:
    """The ASGI ``send`` frames are written to: past Channels' session wrapper."""
    send: Send = socket.base_send
    if not session_wrapper_skippable():
        return send
    from channels.sessions import InstanceSessionWrapper

    for _ in range(_MAX_WRAPPERS):
        wrapper = getattr(send, "__self__", None)
        if not isinstance(wrapper, InstanceSessionWrapper):
            break
        inner = getattr(wrapper, "real_send", None)
        if not callable(inner):
            break
        send = inner
    return send


def transport_of(socket: Any) -> Any | None:
    """The Twisted transport behind a consumer under daphne, else None (no check).

    Follows ``real_send`` through session-style wrappers to daphne's
    ``partial(handle_reply, protocol)``; the transport is used only if its
    write buffer has the fields :func:`unsent_bytes` reads.
    """
    send = getattr(socket, "base_send", None)
    for _ in range(_MAX_WRAPPERS):
        args = getattr(send, "args", None)
        if args:
            transport = getattr(args[0], "transport", None)
            return transport if _buffer_readable(transport) else None
        send = getattr(getattr(send, "__self__", None), "real_send", None)
        if send is None:
            return None
    return None


def _daphne_protocol(socket: Any) -> Any | None:
    """daphne's protocol behind a consumer's ``base_send`` (see transport_of)."""
    send = getattr(socket, "base_send", None)
    for _ in range(_MAX_WRAPPERS):
        args = getattr(send, "args", None)
        if args:
            return args[0]
        send = getattr(getattr(send, "__self__", None), "real_send", None)
        if send is None:
            return None
    return None


def _autobahn_sendable(code: int) -> bool:
    # The codes autobahn's public sendClose accepts (its own rule, mirrored).
    return code == 1000 or 3000 <= code <= 4999


async def close_with_code(socket: Any, code: int) -> None:
    """Close an accepted socket with ``code``, even one autobahn's sendClose refuses."""
    protocol = _daphne_protocol(socket)
    frame_close = getattr(protocol, "sendCloseFrame", None)
    open_state = getattr(protocol, "STATE_OPEN", None)
    if _autobahn_sendable(code) or not callable(frame_close) or open_state is None:
        await socket.base_send({"type": "websocket.close", "code": code})
        return
    if getattr(protocol, "state", None) == open_state:  # closing already: no-op
        frame_close(code=code, isReply=False)


def _buffer_readable(transport: Any) -> bool:
    # The guard for the backlog check: every field it reads, of the right type.
    return (
        transport is not None
        and all(
            isinstance(getattr(transport, name, None), kind)
            for name, kind in _BUFFER_FIELDS
        )
        and callable(getattr(transport, "abortConnection", None))
    )


def unsent_bytes(transport: Any) -> int:
    """Bytes written to a Twisted FileDescriptor but not yet taken by the kernel."""
    try:
        return len(transport.dataBuffer) - transport.offset + transport._tempDataLen
    except (AttributeError, TypeError):
        return 0


def abort(transport: Any) -> None:
    """Drop the connection at once, discarding its unsent bytes."""
    try:
        transport.abortConnection()
    except Exception:  # noqa: BLE001 - already gone is as good as aborted
        logger.debug("abort of a slow client failed", exc_info=True)
