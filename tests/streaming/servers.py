"""Local WebSocket servers on 127.0.0.1 for exercising StreamConnection for real."""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.http11 import Request
from websockets.server import ServerProtocol


def closed_port() -> int:
    """A port on 127.0.0.1 with nothing listening (bound then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class RecordingServer:
    """Records handshakes and inbound messages; tests push frames or cut sockets."""

    #: Close this many connections right after the handshake (a flapping server).
    reject_first: int = 0
    requests: list[Request] = field(default_factory=list)
    received: list[Any] = field(default_factory=list)
    connections: list[ServerConnection] = field(default_factory=list)
    connected: asyncio.Event = field(default_factory=asyncio.Event)
    server: Server | None = None

    @property
    def url(self) -> str:
        assert self.server is not None
        port = self.server.sockets[0].getsockname()[1]
        return f"ws://127.0.0.1:{port}/ws"

    @property
    def current(self) -> ServerConnection:
        return self.connections[-1]

    async def handler(self, ws: ServerConnection) -> None:
        assert ws.request is not None
        self.requests.append(ws.request)
        self.connections.append(ws)
        self.connected.set()
        if len(self.connections) <= self.reject_first:
            await ws.close(1011, "flapping")
            return
        async for raw in ws:
            self.received.append(json.loads(raw))

    async def wait_connections(self, count: int, timeout: float = 3.0) -> None:
        async with asyncio.timeout(timeout):
            while len(self.connections) < count:
                await asyncio.sleep(0.01)

    async def wait_received(self, count: int, timeout: float = 3.0) -> None:
        async with asyncio.timeout(timeout):
            while len(self.received) < count:
                await asyncio.sleep(0.01)


@contextlib.asynccontextmanager
async def recording_server() -> AsyncIterator[RecordingServer]:
    rec = RecordingServer()
    async with serve(rec.handler, "127.0.0.1", 0) as server:
        rec.server = server
        yield rec
        server.close(close_connections=True)


@dataclass
class SilentServer:
    """Completes the WebSocket handshake with websockets' sans-I/O protocol, then
    never reads nor writes again: pings go unanswered, like a dead peer whose
    TCP connection is still up."""

    accepted: int = 0
    server: asyncio.Server | None = None
    writers: list[asyncio.StreamWriter] = field(default_factory=list)

    @property
    def url(self) -> str:
        assert self.server is not None
        port = self.server.sockets[0].getsockname()[1]
        return f"ws://127.0.0.1:{port}/"

    async def wait_accepted(self, count: int, timeout: float = 3.0) -> None:
        async with asyncio.timeout(timeout):
            while self.accepted < count:
                await asyncio.sleep(0.01)


async def _silent_handle(
    silent: SilentServer, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
) -> None:
    protocol = ServerProtocol()
    events: list[Any] = []
    while not events:
        data = await reader.read(4096)
        if not data:
            writer.close()
            return
        protocol.receive_data(data)
        events = protocol.events_received()
    protocol.send_response(protocol.accept(events[0]))
    for chunk in protocol.data_to_send():
        writer.write(chunk)
    await writer.drain()
    silent.accepted += 1
    silent.writers.append(writer)


@contextlib.asynccontextmanager
async def silent_server() -> AsyncIterator[SilentServer]:
    silent = SilentServer()

    async def handle(r: asyncio.StreamReader, w: asyncio.StreamWriter) -> None:
        await _silent_handle(silent, r, w)

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    silent.server = server
    try:
        yield silent
    finally:
        for writer in silent.writers:
            writer.transport.abort()
        server.close()
        await server.wait_closed()
