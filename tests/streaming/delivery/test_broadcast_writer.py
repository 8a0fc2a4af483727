"""The broadcast writer: frame once, write many; the fast path is really used.

The real-daphne tests fail when the pinned daphne/autobahn/Twisted stop
matching what :mod:`streaming.delivery.asgi_transport` needs, instead of the
hub silently falling back to the (4x dearer) ASGI path.
"""

from __future__ import annotations

import asyncio
import json
import socket

import pytest
from websockets.frames import Frame, Opcode

from streaming.delivery import asgi_transport
from streaming.delivery.asgi_transport import (
    DirectSocket,
    direct_socket,
    direct_write_supported,
    text_frame,
    write_frame,
)
from streaming.delivery.hub import _Client
from streaming.delivery.writer import FrameWriter

from .realserver import ProbeServer


def test_guard_matches_the_pinned_versions():
    assert direct_write_supported()


@pytest.mark.parametrize("size", [0, 125, 126, 65535, 65536, 200_000])
def test_text_frame_is_a_valid_unmasked_server_frame(size):
    text = "é" * (size // 2) + "a" * (size % 2)
    raw = text_frame(text)

    def reader():  # websockets' own frame parser reads it back
        buffer = bytearray(raw)

        def read_exact(n):
            chunk = bytes(buffer[:n])
            del buffer[:n]
            return chunk
            yield  # pragma: no cover - makes this a generator

        return Frame.parse(read_exact, mask=False)

    gen = reader()
    with pytest.raises(StopIteration) as done:
        while True:
            next(gen)
    frame = done.value.value
    assert frame.opcode is Opcode.TEXT and frame.fin
    assert frame.data.decode() == text


class _Transport:
    def __init__(self) -> None:
        self.dataBuffer, self.offset, self._tempDataLen = b"", 0, 0
        self.connected, self.disconnecting = True, False
        self.written: list[bytes] = []

    def write(self, data: bytes) -> None:
        self.written.append(data)
        self._tempDataLen += len(data)


class _Protocol:
    STATE_OPEN = 3

    def __init__(self) -> None:
        self.state = 3
        self._perMessageCompress = None


def _pair() -> tuple[DirectSocket, socket.socket, _Transport]:
    ours, theirs = socket.socketpair()
    ours.setblocking(False)
    transport = _Transport()
    return DirectSocket(_Protocol(), transport, ours, 3), theirs, transport


def test_write_sends_directly_when_nothing_is_queued_then_queues_in_order():
    direct, peer, transport = _pair()
    try:
        assert write_frame(direct, b"one")
        assert peer.recv(10) == b"one" and transport.written == []
        transport._tempDataLen = 5  # something queued: behind it, in order
        assert write_frame(direct, b"two")
        assert transport.written == [b"two"]
    finally:
        direct.sock.close()
        peer.close()


def test_a_full_socket_buffer_leaves_the_remainder_to_the_transport():
    direct, peer, transport = _pair()
    direct.sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4096)
    try:
        big = b"z" * 2_000_000
        assert write_frame(direct, big)
        [rest] = transport.written
        assert 0 < len(rest) < len(big) and big.endswith(rest)
    finally:
        direct.sock.close()
        peer.close()


def test_not_open_or_compressed_is_refused_so_the_asgi_path_is_used():
    direct, peer, _ = _pair()
    try:
        direct.protocol.state = 2  # closing
        assert not write_frame(direct, b"x")
        direct.protocol.state = 3
        direct.protocol._perMessageCompress = object()
        assert not write_frame(direct, b"x")
    finally:
        direct.sock.close()
        peer.close()


async def test_writer_falls_back_to_asgi_send_when_there_is_no_direct_socket():
    sent: list[dict] = []

    class Consumer:
        channel_name = "x"

        async def base_send(self, message):
            sent.append(message)

    consumer = Consumer()
    assert direct_socket(consumer) is None  # not daphne: the fallback
    client = _Client(socket=consumer, user_id=None, connected_at=None)
    refused = _Client(socket=consumer, user_id=None, connected_at=None)
    refused.direct, peer, _ = _pair()
    refused.direct.protocol.state = 2
    try:
        writer = FrameWriter()
        assert await writer.broadcast([client, refused], '{"a":1}') == 2
    finally:
        refused.direct.sock.close()
        peer.close()
    assert sent == [{"type": "websocket.send", "text": '{"a":1}'}] * 2
    assert writer.frames_delivered == 2


@pytest.mark.timeout(60)
async def test_real_daphne_broadcasts_take_the_direct_path(tmp_path):
    server = ProbeServer(tmp_path)
    try:
        await server.start()
        clients = [await server.client() for _ in range(3)]
        report = await server.broadcast(20, 3000, 0)
        for ws in clients:
            for seq in range(20):
                frame = json.loads(await asyncio.wait_for(ws.recv(), 10))
                assert frame["seq"] == seq and len(frame["data"]) == 3000
        assert report["direct_clients"] == 3, report
        assert report["direct"] + report["queued"] == 60, report
        assert report["direct"] > 0 and report["refused"] == 0, report
        for ws in clients:
            await ws.close()
        await server.stop()
    finally:
        out = server.finish()
    assert "Traceback" not in out, out


def test_kernel_unsent_counts_what_a_non_reader_left_in_the_kernel():
    listener = socket.create_server(("127.0.0.1", 0))
    reader = socket.socket()
    reader.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    reader.connect(listener.getsockname())
    writer, _ = listener.accept()
    writer.setblocking(False)

    class T:
        socket = writer

    try:
        queued = 0
        try:
            for _ in range(200):  # bounded: until the kernel takes no more
                queued += writer.send(b"x" * 65536)
        except BlockingIOError:
            pass
        # Most of it never reached the reader (it reads nothing).
        assert asgi_transport.kernel_unsent(T()) > queued // 2 > 0
        assert asgi_transport.kernel_unsent(object()) == 0
    finally:
        for s in (writer, reader, listener):
            s.close()
