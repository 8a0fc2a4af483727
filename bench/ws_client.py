"""A minimal RFC 6455 client on ``asyncio.Protocol``, for the fan-out load generator.

Why not the ``websockets`` client: at N = 1,000 connections and 20,000 frames/s its
per-connection reader task, frame objects, UTF-8 check and queue cost the one
load-generator process 0.5–0.7 of a core, and the frames wait behind that in the
load generator, not in the server under test, so every p99 was inflated. Here a frame
costs one slice of the received bytes and one method call: the bytes are parsed where
``data_received`` delivers them, with no task, no queue and no copy beyond the payload.

What it does, and only this (enough for the bench servers and a real browser's view):

* HTTP/1.1 upgrade written by hand: Host, Upgrade, Connection, Sec-WebSocket-Key,
  Sec-WebSocket-Version 13 and a browser-like Origin; no extension is offered, so the
  server may not compress. The reply must be ``101`` with the right Sec-WebSocket-Accept
  and no extension, or the connection fails.
* Client frames are masked (section 5.3) with a fresh 4-byte key.
* Server frames are parsed from ``data_received``: FIN/continuation (a fragmented
  message is reassembled), 7/16/64-bit lengths, partial frames across reads. A masked
  server frame or an unknown opcode is a protocol error (close 1002). Ping is answered
  with a pong carrying the same payload; a close frame is answered with a close frame
  (same code) and the server then closes the TCP connection.

Subclasses override :meth:`WSClient.on_text` (payload bytes, receive time) and
optionally :meth:`WSClient.on_open`/:meth:`WSClient.on_binary`.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import os
import struct
import time

__all__ = ["HandshakeError", "WSClient", "accept_key", "client_frame", "connect"]

GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
OP_CONT, OP_TEXT, OP_BINARY, OP_CLOSE, OP_PING, OP_PONG = 0, 1, 2, 8, 9, 10
TEXT_FIN = 0x80 | OP_TEXT
MAX_HANDSHAKE = 16384


class HandshakeError(Exception):
    """The server did not answer the upgrade as RFC 6455 requires."""


def accept_key(key: bytes) -> bytes:
    """The Sec-WebSocket-Accept the server must send back for ``key``."""
    return base64.b64encode(hashlib.sha1(key + GUID).digest())


def client_frame(opcode: int, payload: bytes, mask: bytes | None = None) -> bytes:
    """One final client frame, masked as a client must (RFC 6455 5.3)."""
    mask = mask or os.urandom(4)
    size = len(payload)
    if size < 126:
        header = struct.pack("!BB", 0x80 | opcode, 0x80 | size)
    elif size < 65536:
        header = struct.pack("!BBH", 0x80 | opcode, 0x80 | 126, size)
    else:
        header = struct.pack("!BBQ", 0x80 | opcode, 0x80 | 127, size)
    if size:
        # XOR the whole payload at once as one big integer: no per-byte Python loop.
        key = (mask * (size // 4 + 1))[:size]
        payload = (
            int.from_bytes(payload, "big") ^ int.from_bytes(key, "big")
        ).to_bytes(size, "big")
    return header + mask + payload


#: One receive buffer shared by every connection of the process. The event loop calls
#: ``get_buffer`` then, at once, ``buffer_updated`` for one socket at a time, so the
#: bytes are copied out (only what was read) before the next socket reuses it.
_RECV = memoryview(bytearray(256 * 1024))


class WSClient(asyncio.BufferedProtocol):
    """One client connection. ``opened`` resolves after a valid 101 (or fails).

    A ``BufferedProtocol`` rather than ``asyncio.Protocol`` only for the receive
    buffer: with ``data_received`` the selector loop calls ``sock.recv(256 KiB)``,
    which allocates (and frees) a 256 KiB buffer for every read, ≈ 13 µs per read
    on this machine, more than the whole frame handling; ``recv_into`` a shared
    buffer costs ≈ 1 µs. ``data_received`` still takes bytes (the parsing entry).
    """

    def __init__(self, host: str, path: str, origin: str) -> None:
        self.host, self.path, self.origin = host, path, origin
        self.key = base64.b64encode(os.urandom(16))
        self.transport: asyncio.Transport | None = None
        self.opened: asyncio.Future = asyncio.get_running_loop().create_future()
        self.closed: asyncio.Future = asyncio.get_running_loop().create_future()
        self.is_open = False
        self.close_sent = False
        self.close_code: int | None = None
        self.buf = b""  # unparsed bytes: handshake reply or a partial frame
        self.frag_op = 0  # opcode of a fragmented message being reassembled
        self.frag: list[bytes] = []

    # --- asyncio callbacks ---------------------------------------------------
    def connection_made(self, transport) -> None:
        self.transport = transport
        transport.write(
            (
                f"GET {self.path} HTTP/1.1\r\n"
                f"Host: {self.host}\r\n"
                "Upgrade: websocket\r\n"
                "Connection: Upgrade\r\n"
                f"Sec-WebSocket-Key: {self.key.decode()}\r\n"
                "Sec-WebSocket-Version: 13\r\n"
                f"Origin: {self.origin}\r\n"
                "User-Agent: bench-loadgen\r\n"
                "\r\n"
            ).encode()
        )

    def connection_lost(self, exc) -> None:
        self.is_open = False
        if not self.opened.done():
            self.opened.set_exception(exc or HandshakeError("closed before 101"))
        if not self.closed.done():
            self.closed.set_result(self.close_code)

    def get_buffer(self, sizehint: int) -> memoryview:
        return _RECV

    def buffer_updated(self, nbytes: int) -> None:
        self.data_received(bytes(_RECV[:nbytes]))

    def data_received(self, data: bytes) -> None:
        if self.buf:
            data = self.buf + data
            self.buf = b""
        if not self.is_open:
            data = self._handshake(data)
            if not data:
                return
        now = time.time()
        n = len(data)
        pos = 0
        while n - pos >= 2:
            b0 = data[pos]
            ln = data[pos + 1]
            if ln < 126:  # unmasked, short: the common case
                start = pos + 2
            elif ln == 126:
                if n - pos < 4:
                    break
                ln = (data[pos + 2] << 8) | data[pos + 3]
                start = pos + 4
            elif ln == 127:
                if n - pos < 10:
                    break
                ln = int.from_bytes(data[pos + 2 : pos + 10], "big")
                start = pos + 10
            else:  # mask bit set: servers must not mask (RFC 6455 5.1)
                self.fail(1002)
                return
            end = start + ln
            if end > n:
                break
            if b0 == TEXT_FIN:
                self.on_text(data[start:end], now)
            else:
                self._other(b0, data[start:end], now)
                if self.transport is None or self.transport.is_closing():
                    return
            pos = end
        if pos < n:
            self.buf = data[pos:]

    # --- overridable ---------------------------------------------------------
    def on_open(self) -> None:
        """After the 101; the default does nothing."""

    def on_text(self, payload: bytes, now: float) -> None:
        """A whole text message (UTF-8 bytes) received at ``now`` (epoch seconds)."""

    def on_binary(self, payload: bytes, now: float) -> None:
        """A whole binary message; ignored by default."""

    # --- sending -------------------------------------------------------------
    def send_text(self, text: str) -> None:
        self.transport.write(client_frame(OP_TEXT, text.encode()))

    def close(self, code: int = 1000) -> None:
        """Start the closing handshake; the server then closes the TCP connection."""
        if self.transport is None or self.transport.is_closing():
            return
        if self.is_open and not self.close_sent:
            self.close_sent = True
            self.transport.write(client_frame(OP_CLOSE, struct.pack("!H", code)))
        else:
            self.transport.close()

    def fail(self, code: int) -> None:
        """Protocol error: a close frame, then drop the connection (RFC 6455 7.1.7)."""
        if self.transport is not None and not self.transport.is_closing():
            if self.is_open and not self.close_sent:
                self.close_sent = True
                self.transport.write(client_frame(OP_CLOSE, struct.pack("!H", code)))
            self.transport.close()

    # --- internals -----------------------------------------------------------
    def _handshake(self, data: bytes) -> bytes:
        """Check the 101; returns the bytes after it (frames), or b"" to wait/fail."""
        end = data.find(b"\r\n\r\n")
        if end < 0:
            if len(data) > MAX_HANDSHAKE:
                self._refuse("handshake reply too long")
            else:
                self.buf = data
            return b""
        lines = data[:end].decode("latin-1").split("\r\n")
        parts = lines[0].split(" ", 2)
        headers = {}
        for line in lines[1:]:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        if len(parts) < 2 or parts[1] != "101":
            self._refuse(f"status {lines[0]!r}")
        elif headers.get("upgrade", "").lower() != "websocket":
            self._refuse("no Upgrade: websocket")
        elif "upgrade" not in headers.get("connection", "").lower():
            self._refuse("no Connection: Upgrade")
        elif headers.get("sec-websocket-accept", "").encode() != accept_key(self.key):
            self._refuse("wrong Sec-WebSocket-Accept")
        elif headers.get("sec-websocket-extensions"):
            self._refuse("an extension nobody asked for")
        else:
            self.is_open = True
            self.opened.set_result(None)
            self.on_open()
            return data[end + 4 :]
        return b""

    def _refuse(self, why: str) -> None:
        if not self.opened.done():
            self.opened.set_exception(HandshakeError(why))
        self.transport.close()

    def _other(self, b0: int, payload: bytes, now: float) -> None:
        """Everything but an unfragmented text frame: control frames, fragments."""
        if b0 & 0x70:  # RSV bits: no extension was agreed
            self.fail(1002)
            return
        fin, opcode = b0 & 0x80, b0 & 0x0F
        if opcode == OP_PING:
            if not self.close_sent:
                self.transport.write(client_frame(OP_PONG, payload))
        elif opcode == OP_PONG:
            pass
        elif opcode == OP_CLOSE:
            self.close_code = (
                struct.unpack("!H", payload[:2])[0] if len(payload) >= 2 else 1005
            )
            if not self.close_sent:  # echo the code; the server closes TCP
                self.close_sent = True
                self.transport.write(client_frame(OP_CLOSE, payload[:2]))
            self.is_open = False
        elif opcode in (OP_TEXT, OP_BINARY) and not self.frag:
            if fin:
                self._deliver(opcode, payload, now)
            else:
                self.frag_op, self.frag = opcode, [payload]
        elif opcode == OP_CONT and self.frag:
            self.frag.append(payload)
            if fin:
                whole, self.frag = b"".join(self.frag), []
                self._deliver(self.frag_op, whole, now)
        else:  # unknown opcode, or a continuation out of place
            self.fail(1002)

    def _deliver(self, opcode: int, payload: bytes, now: float) -> None:
        if opcode == OP_TEXT:
            self.on_text(payload, now)
        else:
            self.on_binary(payload, now)


async def connect(factory, url: str, timeout: float = 60.0) -> WSClient:
    """Open ``ws://host:port/path`` with ``factory(host, path, origin)``; await 101."""
    rest = url.split("://", 1)[1]
    hostport, _, path = rest.partition("/")
    host, _, port = hostport.rpartition(":")
    loop = asyncio.get_running_loop()
    origin = f"http://{hostport}"
    _, proto = await asyncio.wait_for(
        loop.create_connection(
            lambda: factory(hostport, "/" + path, origin), host, int(port or 80)
        ),
        timeout,
    )
    await asyncio.wait_for(asyncio.shield(proto.opened), timeout)
    return proto
