"""StreamManager: registry rules, global handlers and clean shutdown."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from streaming.connection import StreamConfig, StreamConnection, StreamStatus
from streaming.manager import StreamManager
from tests.streaming.servers import closed_port, recording_server

pytestmark = pytest.mark.timeout(15)


def config(stream_id: str, url: str) -> StreamConfig:
    return StreamConfig(
        stream_id=stream_id,
        url=url,
        reconnect_delay=0.02,
        max_reconnect_delay=0.05,
        heartbeat_interval=0.2,
    )


async def wait_until(predicate: Any, timeout: float = 3.0) -> None:
    async with asyncio.timeout(timeout):
        while not predicate():
            await asyncio.sleep(0.01)


async def test_duplicate_full_and_unknown_ids() -> None:
    url = f"ws://127.0.0.1:{closed_port()}/"
    manager = StreamManager(max_connections=2)
    await manager.start()
    assert await manager.add_stream(config("a", url)) is True
    assert await manager.add_stream(config("a", url)) is False
    assert await manager.add_stream(config("b", url)) is True
    assert await manager.add_stream(config("c", url)) is False
    assert manager.get_stream_status("nope") is None
    assert manager.get_stream_metrics("nope") is None
    assert manager.get_connection("nope") is None
    assert isinstance(manager.get_connection("a"), StreamConnection)
    await manager.remove_stream("nope")  # unknown: no error
    await manager.remove_stream("a")
    assert manager.get_stream_status("a") is None
    assert await manager.add_stream(config("c", url)) is True
    await manager.stop()


async def test_streams_connect_in_background_and_global_handlers_reach_all() -> None:
    before = asyncio.all_tasks()
    async with recording_server() as server:
        manager = StreamManager()
        await manager.start()
        got: list[tuple[str, Any]] = []
        assert await manager.add_stream(config("one", server.url))
        manager.add_global_handler(lambda m: got.append(("g", m)))
        assert await manager.add_stream(config("two", server.url))  # added later
        await wait_until(
            lambda: (
                manager.get_stream_status("one") is StreamStatus.CONNECTED
                and manager.get_stream_status("two") is StreamStatus.CONNECTED
            )
        )
        await server.wait_connections(2)
        for ws in server.connections:
            await ws.send('{"x": 1}')
        await wait_until(lambda: len(got) == 2)
        metrics = manager.get_stream_metrics("one")
        assert metrics is not None and metrics.messages_received == 1
        assert metrics.connection_count == 1

        await manager.remove_stream("one")
        await wait_until(
            lambda: any(ws.close_code is not None for ws in server.connections)
        )
        closed = [ws for ws in server.connections if ws.close_code is not None]
        assert [ws.close_code for ws in closed] == [1000]  # one clean close
        await manager.stop()
        assert manager.get_stream_status("two") is None
    await asyncio.sleep(0)
    assert {t for t in asyncio.all_tasks() - before if not t.done()} == set()


async def test_stop_leaves_no_task_while_retrying() -> None:
    before = asyncio.all_tasks()
    manager = StreamManager()
    await manager.start()
    url = f"ws://127.0.0.1:{closed_port()}/"
    for n in range(3):
        assert await manager.add_stream(config(f"s{n}", url))
    await wait_until(
        lambda: manager.get_stream_status("s0") is StreamStatus.RECONNECTING
    )
    await manager.stop()
    assert {t for t in asyncio.all_tasks() - before if not t.done()} == set()
