"""The live exchange streams show in /api/streams/status/ and /metrics, with real
figures.
"""

from __future__ import annotations

import asyncio
import re
import time

import pytest
from asgiref.sync import sync_to_async

from devtools import FakeBinance
from streaming.feeds.providers import PriceFeedProvider
from streaming.stream_types import StreamMetrics
from tests.portfolio.live.test_worker import config

pytestmark = [pytest.mark.django_db(transaction=True)]


def sample(text: str, name: str, **labels: str) -> float | None:
    """The value of one Prometheus sample in ``text`` (None when absent)."""
    wanted = ",".join(f'{k}="{v}"' for k, v in sorted(labels.items()))
    for line in text.splitlines():
        match = re.fullmatch(rf"{name}(?:\{{(.*)\}})? (\S+)", line)
        if match and ",".join(sorted((match.group(1) or "").split(","))) == wanted:
            return float(match.group(2))
    return None


@pytest.fixture
async def live_worker(connection_manager):
    """A worker streaming BTC from a local fake Binance that ticks 10 times a second."""
    from portfolio.live.worker import FeedWorker

    fake = FakeBinance(["BTC"])
    await fake.start()
    fake.start_ticking(["BTC"], 10)
    stop = asyncio.Event()
    worker = FeedWorker(
        config(
            providers=[PriceFeedProvider.BINANCE],
            symbols=["BTC"],
            startup_window=30,
            urls={PriceFeedProvider.BINANCE: f"ws://127.0.0.1:{fake.port}"},
        )
    )
    task = asyncio.create_task(worker.run(stop))
    await asyncio.wait_for(worker.started.wait(), 10)
    yield worker
    stop.set()
    await asyncio.wait_for(task, 15)
    await fake.close()


async def wait_for(predicate, timeout: float = 10.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = await predicate()
        if value:
            return value
        await asyncio.sleep(0.1)
    raise AssertionError("condition not met in time")


async def test_live_streams_in_status_and_metrics(live_worker, admin_client, client):
    streams = live_worker.streams
    assert streams.get_stream_status("binance-0") is not None  # via the manager

    async def status_with_traffic():
        body = (await sync_to_async(admin_client.get)("/api/streams/status/")).json()
        entries = (body["status"] or {}).get("streams") or []
        live = [e for e in entries if e["metrics"]["messages_received"] > 3]
        return live and body

    body = await wait_for(status_with_traffic)
    (entry,) = body["status"]["streams"]
    assert entry["stream_id"] == "binance-0" and entry["provider"] == "binance"
    assert entry["status"] == "connected"
    assert entry["url"].startswith("ws://127.0.0.1:")
    assert "btcusdt@ticker" in entry["url"]
    assert set(entry["metrics"]) == set(StreamMetrics.__dataclass_fields__)
    assert entry["metrics"]["bytes_received"] > 0
    assert entry["metrics"]["connection_count"] == 1

    response = await sync_to_async(client.get)("/metrics")
    assert response.status_code == 200
    text = response.content.decode()
    labels = {"stream_id": "binance-0", "provider": "binance"}
    assert sample(text, "stream_messages_received_total", **labels) > 3
    assert sample(text, "stream_up", **labels) == 1
    assert sample(text, "stream_reconnections_total", **labels) == 0
    assert sample(text, "stream_latency_ms", **labels) is not None
    assert sample(text, "bus_events_published_total") > 0
    assert sample(text, "alerts_triggered_total") == 0
    assert sample(text, "ws_clients") is not None
    assert sample(text, "ws_frames_sent_total") is not None


def test_metrics_refused_to_strangers_without_the_token(client, settings):
    settings.METRICS_TOKEN = "s3cret-token"
    far = {"REMOTE_ADDR": "203.0.113.9"}
    refused = client.get("/metrics", **far)
    assert refused.status_code == 403
    assert "METRICS_TOKEN" in refused.json()["detail"]
    wrong = client.get("/metrics", HTTP_AUTHORIZATION="Bearer nope", **far)
    assert wrong.status_code == 403
    ok = client.get("/metrics", HTTP_AUTHORIZATION="Bearer s3cret-token", **far)
    assert ok.status_code == 200 and b"ws_clients" in ok.content
    assert client.get("/metrics", REMOTE_ADDR="::1").status_code == 200


def test_metrics_without_a_token_setting_stays_loopback_only(client, settings):
    settings.METRICS_TOKEN = ""
    response = client.get(
        "/metrics", HTTP_AUTHORIZATION="Bearer ", REMOTE_ADDR="198.51.100.1"
    )
    assert response.status_code == 403
