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
  reading. The hub reads its size, plus what the kernel still holds in the
  socket's send queue (``TIOCOUTQ``, which is where a backlog sits first),
  to cut such a client off.
* **Keepalive pings spread over the interval.** daphne pings a socket
  ``ping_interval`` after it connected (or last sent something), from one
  timer that walks every connection; sockets that connect together (every
  browser, after a server restart) are pinged in the same turn of the loop.
  :func:`spread_keepalive` moves each socket's first ping earlier by its own
  fraction of the interval (protocol ``last_ping``).
* **Broadcast frames written straight to the socket.** Twisted's
  ``transport.write`` always buffers, then registers and unregisters a writer
  with the reactor (two ``epoll_ctl`` per frame per socket) before the
  ``send``. A broadcast is framed once here (:func:`text_frame`, an
  uncompressed server frame, as autobahn would build it) and
  :func:`write_frame` sends the same bytes with one non-blocking ``send`` when
  nothing is queued for that socket; any remainder, and every frame while
  something is queued, goes through ``transport.write`` so order is kept.
  Only for an open, uncompressed, plain-TCP daphne socket (:func:`direct_socket`);
  anything else keeps the ASGI path. :data:`write_stats` counts which path
  each frame took, so a test sees the fast path is really used.

Each has a guard that checks what it needs is present and otherwise falls back
to the public path (``base_send``, no backlog check): other ASGI servers, test
communicators and library versions whose internals moved. The tests in
``tests/streaming/delivery/test_asgi_transport.py`` fail when a guard stops
matching the pinned versions, rather than the hub silently losing its checks.
"""

from __future__ import annotations

import fcntl
import functools
import logging
import struct
import sys
import termios
import time
import weakref
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

logger = logging.getLogger(__name__)

__all__ = [
    "DirectSocket",
    "Send",
    "WriteStats",
    "abort",
    "close_with_code",
    "direct_socket",
    "spread_keepalive",
    "keep_keepalive_phase",
    "direct_write_supported",
    "kernel_unsent",
    "text_frame",
    "write_frame",
    "write_stats",
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


# Golden-ratio steps: any number of sockets connecting together get phases
# spread evenly over the interval (a low-discrepancy sequence, no clumps).
_GOLDEN = 0.6180339887498949
_keepalive_phase = 0.0
_keepalive_offsets: weakref.WeakKeyDictionary[Any, float] = weakref.WeakKeyDictionary()


def _keepalive(socket: Any) -> tuple[Any, float] | tuple[None, None]:
    protocol = _daphne_protocol(socket)
    interval = getattr(getattr(protocol, "server", None), "ping_interval", None)
    if (
        not isinstance(interval, int | float)
        or interval <= 0
        or not isinstance(getattr(protocol, "last_ping", None), float)
    ):
        return None, None
    return protocol, float(interval)


def spread_keepalive(socket: Any) -> float | None:
    """Give this socket's keepalive ping its own phase; the offset in seconds.

    A thousand browsers reconnecting after a restart would otherwise be pinged,
    and answer, in one turn of the loop every ``ping_interval`` (a stall of
    tens of milliseconds that every client of a broadcast then waits out).
    None when the socket is not daphne's or its keepalive is off.
    """
    global _keepalive_phase
    protocol, interval = _keepalive(socket)
    if protocol is None or interval is None:
        return None
    _keepalive_phase = (_keepalive_phase + _GOLDEN) % 1.0
    offset = _keepalive_offsets[protocol] = _keepalive_phase * interval
    protocol.last_ping = time.time() - offset
    return offset


def keep_keepalive_phase(socket: Any) -> None:
    """After a frame from the client: daphne restarted its ping interval at
    "now" (so clients that spoke together would be pinged together again)."""
    protocol = _daphne_protocol(socket)
    offset = _keepalive_offsets.get(protocol) if protocol is not None else None
    if offset is not None:
        protocol.last_ping = time.time() - offset


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


# The broadcast fast path (see the module docstring).
_TIOCOUTQ: int | None = getattr(termios, "TIOCOUTQ", None)
_OPCODE_TEXT_FIN = 0x81  # FIN + text opcode; server frames are never masked


@dataclass(slots=True)
class WriteStats:
    """Frames per path, for tests and the bench (cheap integer counters)."""

    direct: int = 0  # sent with one non-blocking send, nothing queued
    queued: int = 0  # appended to Twisted's buffer (something was queued)
    refused: int = 0  # not writable directly: the caller used the ASGI path


write_stats = WriteStats()


@dataclass(slots=True)
class DirectSocket:
    """An open daphne websocket the hub may write framed bytes to directly."""

    protocol: Any
    transport: Any
    sock: Any
    open_state: int


@functools.cache
def direct_write_supported() -> bool:
    """Whether the pinned daphne/autobahn/Twisted still look as the fast path needs."""
    try:
        from autobahn.websocket.protocol import WebSocketProtocol
        from daphne.ws_protocol import WebSocketProtocol as DaphneProtocol
        from twisted.internet import tcp
    except ImportError:
        return False
    ok = (
        issubclass(DaphneProtocol, WebSocketProtocol)
        and isinstance(getattr(WebSocketProtocol, "STATE_OPEN", None), int)
        and all(hasattr(tcp.Server, name) for name in ("dataBuffer", "offset"))
        and all(hasattr(tcp.Server, n) for n in ("connected", "disconnecting"))
        and callable(getattr(tcp.Server, "write", None))
        and sys.platform.startswith("linux")
    )
    if not ok:
        logger.warning("daphne/Twisted internals moved: broadcasts use the ASGI path")
    return ok


def direct_socket(socket: Any) -> DirectSocket | None:
    """The direct-write handle of a consumer under daphne, or None (ASGI path).

    Only plain TCP (``twisted.internet.tcp.Server``): a TLS transport daphne
    terminates itself encrypts in ``write``, so raw bytes must not bypass it.
    """
    if not direct_write_supported():
        return None
    from twisted.internet import tcp

    protocol = _daphne_protocol(socket)
    transport = getattr(protocol, "transport", None)
    if not isinstance(transport, tcp.Server) or not _buffer_readable(transport):
        return None
    sock = getattr(transport, "socket", None)
    if not callable(getattr(sock, "send", None)):
        return None
    return DirectSocket(protocol, transport, sock, protocol.STATE_OPEN)


def text_frame(text: str) -> bytes:
    """One uncompressed, unmasked, final text frame (RFC 6455 section 5.2)."""
    payload = text.encode()
    size = len(payload)
    if size < 126:
        header = struct.pack("!BB", _OPCODE_TEXT_FIN, size)
    elif size < 65536:
        header = struct.pack("!BBH", _OPCODE_TEXT_FIN, 126, size)
    else:
        header = struct.pack("!BBQ", _OPCODE_TEXT_FIN, 127, size)
    return header + payload


def write_frame(direct: DirectSocket, frame: bytes) -> bool:
    """Write a framed broadcast; False when the caller must use the ASGI path.

    Refused (False) unless the handshake is done, no compression was agreed
    (frames would have to be compressed per socket) and the transport is open;
    daphne's ASGI path then decides (it drops frames for closed sockets).
    """
    protocol, transport = direct.protocol, direct.transport
    if (
        protocol.state != direct.open_state
        or getattr(protocol, "_perMessageCompress", None) is not None
        or not transport.connected
        or transport.disconnecting
    ):
        write_stats.refused += 1
        return False
    if transport._tempDataLen or len(transport.dataBuffer) > transport.offset:
        transport.write(frame)  # behind what is queued: order is kept
        write_stats.queued += 1
        return True
    try:
        sent = direct.sock.send(frame)
    except BlockingIOError:
        sent = 0
    except OSError:
        # Reset under us: hand the frame to Twisted, whose write notices the
        # error and closes the connection the usual way.
        sent = 0
    if sent < len(frame):
        transport.write(frame[sent:])
        write_stats.queued += 1
    else:
        write_stats.direct += 1
    return True


def kernel_unsent(transport: Any) -> int:
    """Bytes the kernel still holds in the socket's send queue (0 if unknown)."""
    if _TIOCOUTQ is None:
        return 0
    try:
        fd = transport.socket.fileno()
        if fd < 0:
            return 0
        raw = fcntl.ioctl(fd, _TIOCOUTQ, b"\0\0\0\0")
    except (AttributeError, OSError, TypeError, ValueError):
        return 0
    return int(struct.unpack("i", raw)[0])
