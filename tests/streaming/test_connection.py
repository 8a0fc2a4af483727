"""StreamConnection against real sockets on 127.0.0.1."""

from __future__ import annotations

import asyncio
import json
import time
from datetime import datetime
from decimal import Decimal
from typing import Any

import pytest

from streaming.connection import (
    StreamConfig,
    StreamConnection,
    StreamMetrics,
    StreamStatus,
    build_url,
)
from streaming.exceptions import ConnectionError as StreamConnectionError
from tests.streaming.servers import closed_port, recording_server, silent_server

pytestmark = pytest.mark.timeout(15)


def make_config(url: str, **overrides: Any) -> StreamConfig:
    defaults: dict[str, Any] = dict(
        reconnect_attempts=5,
        reconnect_delay=0.02,
        max_reconnect_delay=0.1,
        heartbeat_interval=0.5,
        buffer_size=100,
    )
    defaults.update(overrides)
    return StreamConfig(stream_id="test", url=url, **defaults)


async def wait_until(predicate: Any, timeout: float = 3.0) -> None:
    async with asyncio.timeout(timeout):
        while not predicate():
            await asyncio.sleep(0.01)


def test_config_defaults_match_specification() -> None:
    config = StreamConfig(stream_id="s", url="ws://x")
    assert config.symbols == []
    assert config.reconnect_attempts == 5
    assert config.reconnect_delay == 1.0
    assert config.max_reconnect_delay == 60.0
    assert config.heartbeat_interval == 30.0
    assert config.buffer_size == 1000
    assert config.rate_limit is None
    assert config.headers == {} and config.params == {}
    assert [s.value for s in StreamStatus] == [
        "disconnected",
        "connecting",
        "connected",
        "reconnecting",
        "error",
    ]
    assert StreamMetrics() == StreamMetrics(0, 0, 0, 0, 0, 0, 0, None, 0.0, 0.0)


def test_build_url_merges_params() -> None:
    assert build_url("ws://h/p?a=1&b=2", {"b": "3", "c": "x y"}) == (
        "ws://h/p?a=1&b=3&c=x+y"
    )
    assert build_url("ws://h/p", {}) == "ws://h/p"


async def test_connect_receive_send_and_metrics() -> None:
    async with recording_server() as server:
        conn = StreamConnection(make_config(server.url))
        statuses: list[StreamStatus] = []
        conn.add_status_listener(statuses.append)
        got: list[Any] = []
        conn.add_handler(got.append)
        assert await conn.connect() is True
        assert conn.status is StreamStatus.CONNECTED
        assert statuses == [StreamStatus.CONNECTING, StreamStatus.CONNECTED]
        assert conn.connected_since is not None
        assert conn.connected_since.tzinfo is not None

        await conn.send_message({"op": "sub", "px": Decimal("0.10")})
        await server.wait_received(1)
        assert server.received == [{"op": "sub", "px": "0.10"}]
        sent = json.dumps({"op": "sub", "px": "0.10"}, separators=(",", ":"))
        assert conn.metrics.messages_sent == 1
        assert conn.metrics.bytes_sent == len(sent)

        frame = '{"s":"BTCUSDT","p":12345.678901234567890,"l":[1.5]}'
        await server.current.send(frame)
        await wait_until(lambda: len(got) == 1)
        assert got[0] == {
            "s": "BTCUSDT",
            "p": Decimal("12345.678901234567890"),
            "l": [Decimal("1.5")],
        }
        metrics = conn.metrics
        assert metrics.messages_received == 1
        assert metrics.bytes_received == len(frame)
        assert metrics.connection_count == 1
        assert metrics.reconnection_count == 0
        assert isinstance(metrics.last_message_time, datetime)
        assert metrics.last_message_time.tzinfo is not None
        assert metrics.uptime_seconds > 0

        await conn.disconnect()
        assert conn.status is StreamStatus.DISCONNECTED
        assert statuses[-1] is StreamStatus.DISCONNECTED
        with pytest.raises(StreamConnectionError):
            await conn.send_message({"op": "x"})


async def test_server_close_reconnects_and_resubscribes() -> None:
    async with recording_server() as server:
        conn = StreamConnection(make_config(server.url))
        conn.set_subscription_factory(
            lambda: [{"method": "SUBSCRIBE", "id": 1}, {"method": "PING", "id": 2}]
        )
        assert await conn.connect()
        await server.wait_received(2)

        await server.current.close()
        await server.wait_connections(2)
        await server.wait_received(4)
        await wait_until(lambda: conn.status is StreamStatus.CONNECTED)
        assert [m["id"] for m in server.received] == [1, 2, 1, 2]
        assert conn.metrics.connection_count == 2
        assert conn.metrics.reconnection_count == 1
        assert len(conn.backoff_delays) == 1

        # Messages flow on the new socket.
        got: list[Any] = []
        conn.add_handler(got.append)
        await server.current.send('{"after": "reconnect"}')
        await wait_until(lambda: got == [{"after": "reconnect"}])
        await conn.disconnect()


async def test_forced_reconnect_and_max_connection_age() -> None:
    async with recording_server() as server:
        # A long heartbeat: under a loaded machine a 0.5 s keepalive timeout
        # could drop the socket and add a backoff this test does not expect.
        conn = StreamConnection(
            make_config(server.url, reconnect_delay=5.0, heartbeat_interval=5.0)
        )
        assert await conn.connect()
        await conn.reconnect()
        # Immediate: no 5 s backoff.
        await server.wait_connections(2, timeout=2.0)
        await wait_until(lambda: conn.status is StreamStatus.CONNECTED)
        assert conn.backoff_delays == []
        await conn.disconnect()

        aged = StreamConnection(
            make_config(server.url, reconnect_delay=5.0, heartbeat_interval=5.0),
            max_connection_age=0.2,
        )
        assert await aged.connect()
        await server.wait_connections(4, timeout=2.0)
        # The server sees the handshake before the client counts the reconnect.
        await wait_until(lambda: aged.metrics.reconnection_count >= 1)
        assert aged.backoff_delays == []
        await aged.disconnect()


async def test_unreachable_connect_false_backoff_capped_then_error() -> None:
    url = f"ws://127.0.0.1:{closed_port()}/"
    conn = StreamConnection(
        make_config(
            url, reconnect_attempts=6, reconnect_delay=0.01, max_reconnect_delay=0.04
        )
    )
    statuses: list[StreamStatus] = []
    conn.add_status_listener(statuses.append)
    assert await conn.connect() is False
    assert await conn.wait_for_status(StreamStatus.ERROR, timeout=3.0)
    delays = conn.backoff_delays
    assert len(delays) == 5  # between 6 attempts
    assert all(d <= 0.04 for d in delays)
    assert delays[0] < delays[1] < delays[2]  # jitter (+-20%) cannot hide doubling
    assert delays[-1] >= 0.04 * 0.8
    assert statuses[0] is StreamStatus.CONNECTING
    assert StreamStatus.RECONNECTING in statuses
    assert statuses[-1] is StreamStatus.ERROR
    assert conn.metrics.error_count == 6
    await asyncio.sleep(0.1)
    assert len(conn.backoff_delays) == 5  # stopped retrying
    await conn.disconnect()


async def test_backoff_grows_while_flapping_and_resets_after_healthy() -> None:
    async with recording_server() as server:
        server.reject_first = 3
        config = make_config(
            server.url,
            reconnect_delay=0.02,
            max_reconnect_delay=1.0,
            heartbeat_interval=0.1,
        )
        conn = StreamConnection(config)
        assert await conn.connect()
        await server.wait_connections(4)
        await wait_until(lambda: conn.status is StreamStatus.CONNECTED)
        flapping = list(conn.backoff_delays)
        assert len(flapping) == 3
        assert flapping[0] < flapping[1] < flapping[2]  # short-lived: keeps growing
        await asyncio.sleep(0.15)  # stays up longer than a heartbeat: healthy
        await server.current.close()
        await wait_until(lambda: conn.metrics.reconnection_count == 4)
        assert conn.backoff_delays[3] <= 0.02 * 1.2  # back to the base delay
        await conn.disconnect()


async def test_silent_server_is_detected_as_stale() -> None:
    async with silent_server() as server:
        interval = 0.1
        conn = StreamConnection(make_config(server.url, heartbeat_interval=interval))
        assert await conn.connect()
        await server.wait_accepted(1)
        started = time.monotonic()
        await server.wait_accepted(2, timeout=2.0)
        elapsed = time.monotonic() - started
        # Two silent heartbeats, checked every quarter interval, plus the reopen.
        assert elapsed < 2 * interval + 0.2
        await wait_until(lambda: conn.metrics.reconnection_count >= 1)
        assert conn.metrics.error_count >= 1  # the stale verdict is counted
        await conn.disconnect()


async def test_latency_measured_from_pong() -> None:
    async with recording_server() as server:
        conn = StreamConnection(make_config(server.url, heartbeat_interval=0.05))
        assert await conn.connect()
        await wait_until(lambda: conn.metrics.latency_ms > 0)
        assert conn.metrics.latency_ms < 1000
        # Pongs count as liveness: a quiet but healthy server is not reconnected.
        await asyncio.sleep(0.3)
        assert conn.metrics.connection_count == 1
        await conn.disconnect()


async def test_burst_with_slow_handler_drops_oldest() -> None:
    async with recording_server() as server:
        conn = StreamConnection(make_config(server.url, buffer_size=10))
        seen: list[int] = []
        release = asyncio.Event()

        async def slow(message: dict[str, int]) -> None:
            await release.wait()
            seen.append(message["n"])

        conn.add_handler(slow)
        assert await conn.connect()
        burst = 500
        started = time.monotonic()
        for n in range(burst):
            await server.current.send(json.dumps({"n": n}))
        await wait_until(lambda: conn.metrics.messages_received == burst)
        reader_time = time.monotonic() - started
        assert reader_time < 2.0  # the reader kept pace while the handler was stuck
        assert len(conn._inbox._buffer) <= 10
        release.set()
        # The newest frames survived; at most one older one was already in the
        # stuck handler's hands; every other frame is counted as dropped.
        await wait_until(lambda: bool(seen) and seen[-1] == burst - 1)
        assert seen[-10:] == list(range(burst - 10, burst))
        assert len(seen) <= 11
        assert conn.dropped_messages == burst - len(seen)
        await conn.disconnect()


async def test_handler_errors_isolated_and_bad_json_counted() -> None:
    async with recording_server() as server:
        conn = StreamConnection(make_config(server.url))
        good_sync: list[Any] = []
        good_async: list[Any] = []
        raw: list[bytes] = []

        def broken(message: Any) -> None:
            raise RuntimeError("boom")

        async def async_good(message: Any) -> None:
            good_async.append(message)

        conn.add_handler(broken)
        conn.add_handler(good_sync.append)
        conn.add_handler(async_good)
        conn.add_raw_handler(raw.append)
        assert await conn.connect()
        await server.current.send("not json")
        await server.current.send("[1, 2]")
        await wait_until(lambda: len(good_async) == 1)
        assert good_sync == [[1, 2]] and good_async == [[1, 2]]
        assert raw == [b"not json", b"[1, 2]"]
        assert conn.metrics.error_count == 2  # one bad frame, one handler failure

        conn.remove_handler(broken)
        await server.current.send('{"a": 1}')
        await wait_until(lambda: len(good_async) == 2)
        assert conn.metrics.error_count == 2
        await conn.disconnect()


async def test_headers_params_and_rate_limit_reach_server() -> None:
    async with recording_server() as server:
        config = make_config(
            server.url + "?existing=1",
            headers={"X-Api-Key": "k123"},
            params={"streams": "btcusdt@trade"},
            rate_limit=20,
        )
        conn = StreamConnection(config)
        assert await conn.connect()
        request = server.requests[0]
        assert request.headers["X-Api-Key"] == "k123"
        assert request.path == "/ws?existing=1&streams=btcusdt%40trade"

        started = time.monotonic()
        for n in range(6):
            await conn.send_message({"n": n})
        elapsed = time.monotonic() - started
        await server.wait_received(6)
        assert [m["n"] for m in server.received] == list(range(6))
        assert elapsed >= 5 / 20 - 0.02  # six sends, five gaps of 1/20 s
        await conn.disconnect()


async def test_disconnect_leaves_no_task() -> None:
    before = asyncio.all_tasks()
    async with recording_server() as server:
        conn = StreamConnection(make_config(server.url, heartbeat_interval=0.05))
        assert await conn.connect()
        await conn.disconnect()
        leftover = {t for t in asyncio.all_tasks() - before if not t.done()}
        assert not any(t.get_name().startswith("stream-") for t in leftover)
        assert conn._supervisor is None and conn._dispatcher is None
    await asyncio.sleep(0)
    assert {t for t in asyncio.all_tasks() - before if not t.done()} == set()


async def test_disconnect_records_uptime_and_clears_connection_state() -> None:
    async with recording_server() as server:
        conn = StreamConnection(make_config(server.url))
        assert await conn.connect()
        assert conn.connected_since is not None
        await asyncio.sleep(0.2)
        await conn.disconnect()
        assert conn.status is StreamStatus.DISCONNECTED
        assert conn.connected_since is None and not conn.is_connected
        lived = conn.metrics.uptime_seconds
        assert 0.2 <= lived < 2.0  # the closed socket's lifetime, not zero
        await asyncio.sleep(0.1)
        assert conn.metrics.uptime_seconds == lived  # frozen, not still counting
        with pytest.raises(StreamConnectionError):
            await conn.send_message({"after": "disconnect"})
