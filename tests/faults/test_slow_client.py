"""A client that reads nothing: others keep their prices; it is cut off at a bound."""

from __future__ import annotations

import asyncio
import functools
import json
import os
import signal
import socket
import time

import pytest
from django.test import override_settings

from streaming.delivery.asgi_transport import unsent_bytes
from streaming.delivery.hub import BACKLOG_CHECK_EVERY, ConnectionManager

from .conftest import finish, free_port, manage, next_price, open_client, wait_for_line


class _Transport:
    """The three Twisted FileDescriptor fields the check reads, plus abort."""

    def __init__(self) -> None:
        self.dataBuffer, self.offset, self._tempDataLen = b"", 0, 0
        self.aborted = False

    def abortConnection(self) -> None:  # noqa: N802 - Twisted's name
        self.aborted = True


class _Protocol:
    def __init__(self) -> None:
        self.transport = _Transport()


class _Socket:
    """Like a consumer under daphne: base_send = partial(handle_reply, protocol)."""

    def __init__(self) -> None:
        self.channel_name = "test"
        self.protocol = _Protocol()
        self.sent = 0
        self.base_send = functools.partial(self._handle_reply, self.protocol)

    async def _handle_reply(self, protocol, message) -> None:
        self.sent += 1


def test_unsent_bytes_reads_twisted_fields():
    t = _Transport()
    t.dataBuffer, t.offset, t._tempDataLen = b"x" * 100, 40, 7
    assert unsent_bytes(t) == 67
    assert unsent_bytes(object()) == 0


@override_settings(WS_MAX_CLIENT_BACKLOG_BYTES=1000)
async def test_backlog_over_bound_aborts_only_that_client(settings):
    manager = ConnectionManager()
    manager._clients.clear()
    slow, fast = _Socket(), _Socket()
    from streaming.delivery.asgi_transport import transport_of
    from streaming.delivery.hub import _Client

    for name, sock in (("slow", slow), ("fast", fast)):
        client = _Client(
            socket=sock, user_id=None, connected_at=None, transport=transport_of(sock)
        )
        manager._clients[name] = client
        manager._rooms.setdefault("prices", {})[name] = client
    slow.protocol.transport._tempDataLen = 5000  # 5 kB it could not write
    for _ in range(BACKLOG_CHECK_EVERY * 2):
        await manager.deliver_local("prices", "{}")
    assert slow.protocol.transport.aborted and not fast.protocol.transport.aborted
    assert manager.slow_clients_dropped == 1
    assert slow.sent == BACKLOG_CHECK_EVERY  # nothing more written once cut off
    assert fast.sent == BACKLOG_CHECK_EVERY * 2


def test_other_transports_are_not_checked():
    class Plain:
        async def base_send(self, message):
            pass

    from streaming.delivery.asgi_transport import transport_of

    assert transport_of(Plain()) is None


@pytest.mark.real_only
@pytest.mark.timeout(60)
@pytest.mark.django_db(transaction=True)
async def test_slow_reader_is_cut_off_and_others_keep_prices():
    """Real daphne: a reader that stopped, a normal reader and a flood of frames."""
    from channels_redis.pubsub import RedisPubSubChannelLayer
    from django.conf import settings

    from streaming.delivery.rooms import group_name

    port = free_port()
    prefix = f"slowtest{os.getpid()}"
    bound = 256 * 1024
    proc = manage(
        "serve",
        "--port",
        str(port),
        env={
            "CHANNEL_LAYER_PREFIX": prefix,
            "PRICE_FEEDS": "mock",
            "FEED_STARTUP_WINDOW": "0",
            "WATCH_SYMBOLS": "BTC",
            "WS_MAX_CLIENT_BACKLOG_BYTES": str(bound),
            "PRICE_PUBLISH_INTERVAL": "0.1",
        },
    )
    # The hubs' layer (settings' "hub"), as run_feeds publishes to the servers.
    layer = RedisPubSubChannelLayer(hosts=[settings.REDIS_URL], prefix=prefix)
    try:
        await asyncio.to_thread(wait_for_line, proc, "Feed worker started", 30)
        # The slow one: tiny receive buffer, and websockets stops reading once
        # its queue of one frame is full (we never call recv()).
        raw = socket.socket()
        raw.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        raw.connect(("127.0.0.1", port))
        slow = await open_client(port, sock=raw, max_queue=1)
        fast = await open_client(port)
        await next_price(fast, 10)
        await asyncio.sleep(0.5)

        padding = "x" * 8192
        gaps, last, dropped_at = [], time.monotonic(), None
        started = time.monotonic()
        while time.monotonic() - started < 30 and dropped_at is None:
            for _ in range(10):  # ~80 kB per round, to every member of "prices"
                await layer.group_send(
                    group_name("prices"),
                    {
                        "type": "room.frame",
                        "room": "prices",
                        "text": json.dumps({"type": "padding", "data": padding}),
                    },
                )
            async with asyncio.timeout(5):  # the normal reader drains everything
                while True:
                    frame = json.loads(await fast.recv())
                    now = time.monotonic()
                    if frame["type"] == "price_update":
                        gaps.append(now - last)
                        last = now
                    if frame["type"] == "padding":
                        break
            if "Disconnecting slow client" in await asyncio.to_thread(_peek, proc):
                dropped_at = time.monotonic()
        assert dropped_at is not None, "the slow client was never disconnected"
        # Prices to the normal reader never stalled behind the slow one:
        # publish interval 0.1 s + mock tick 1 s, well under 2.5 s between frames.
        await next_price(fast, 3)
        assert max(gaps, default=0) < 2.5, gaps
        # The slow socket is gone (reset), the normal one still open.
        with pytest.raises(Exception):  # noqa: B017 - reset or closed, either is fine
            async with asyncio.timeout(10):
                while True:
                    await slow.recv()
        assert fast.state.name == "OPEN"
        await fast.close()
    finally:
        await layer.flush()
        out = finish(proc, signal.SIGINT)
    assert proc.poll() == 0, out


_seen: dict[int, str] = {}


def _peek(proc) -> str:
    """Everything the process printed so far (non-blocking, accumulated)."""
    fd = proc.stdout.fileno()
    os.set_blocking(fd, False)
    chunks = []
    while True:
        try:
            chunk = os.read(fd, 65536)
        except BlockingIOError:
            break
        if not chunk:
            break
        chunks.append(chunk.decode(errors="replace"))
    _seen[proc.pid] = _seen.get(proc.pid, "") + "".join(chunks)
    return _seen[proc.pid]


def test_transport_found_through_session_middleware_wrapper():
    from streaming.delivery.asgi_transport import transport_of

    inner = _Socket()

    class Wrapper:  # channels.sessions.InstanceSessionWrapper keeps real_send
        real_send = inner.base_send

        async def send(self, message):
            return await self.real_send(message)

    class Consumer:
        base_send = Wrapper().send

    assert transport_of(Consumer()) is inner.protocol.transport


@pytest.mark.timeout(90)
async def test_real_daphne_cuts_a_non_reader_at_the_bound_within_seconds(tmp_path):
    """Embedded daphne, the broadcast writer: the kernel's send queue counts too.

    Before, the backlog sat in the kernel (about 1 MB on loopback) where the
    check never looked, and daphne's keepalive cut the reader after ~50 s.
    """
    from tests.streaming.delivery.realserver import ProbeServer

    bound = 256 * 1024
    server = ProbeServer(tmp_path, WS_MAX_CLIENT_BACKLOG_BYTES=str(bound))
    try:
        await server.start()
        raw = socket.socket()  # tiny receive buffer, and never read
        raw.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        raw.connect(("127.0.0.1", server.port))
        slow = await server.client(sock=raw, max_queue=1)
        fast = await server.client()
        frames, count = [], 300

        async def read_all() -> None:
            while len(frames) < count:
                frame = json.loads(await fast.recv())
                frames.append((time.time() - frame["at"], frame["seq"]))

        reader = asyncio.create_task(read_all())
        # 300 frames of 8 kB, 10 ms apart: 2.4 MB in about 3 s.
        report = await server.broadcast(count, 8192, 10)
        async with asyncio.timeout(15):
            await reader
        assert report["dropped"] == 1, report
        assert report["dropped_after_s"] is not None
        assert report["dropped_after_s"] < 3.0, report  # well before the end
        assert [seq for _, seq in frames] == list(range(count))
        # The normal reader stayed on time while the other one was stuck.
        assert max(lag for lag, _ in frames) < 1.0
        with pytest.raises(Exception):  # noqa: B017 - reset or closed, either is fine
            async with asyncio.timeout(10):
                while True:
                    await slow.recv()
        await fast.close()
        await server.stop()
    finally:
        out = server.finish()
    assert "Disconnecting slow client" in out, out
