"""Prometheus metrics of this process, read from the live objects at scrape time.

Nothing on the hot path increments a metric: collectors read the counters the
pieces already keep (StreamMetrics, the hub's frame counts, the bus's stats)
when ``/metrics`` is scraped. Every process has the hub's ``ws_*``; the
process running the feed worker also has the ``stream_*``, ``bus_*`` and
``alerts_*`` families (embedded mode: one process has them all).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from typing import Any

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from streaming.bus import StreamEventBus
from streaming.manager import StreamManager
from streaming.stream_types import StreamStatus

logger = logging.getLogger(__name__)

__all__ = [
    "REGISTRY",
    "register_worker",
    "unregister_worker",
    "register_hub",
    "render",
    "CONTENT_TYPE",
]

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
STREAM_LABELS = ["stream_id", "provider"]


class _WorkerCollector(Collector):
    """Stream, bus and alert figures of the feed worker running in this process."""

    def __init__(self) -> None:
        self.streams: StreamManager | None = None
        self.bus: StreamEventBus | None = None
        self.alerts_triggered: Callable[[], int] | None = None

    def collect(self) -> Iterator[Metric]:
        streams, bus, alerts = self.streams, self.bus, self.alerts_triggered
        if streams is not None:
            yield from _stream_families(streams)
        if bus is not None:
            stats = bus.get_bus_stats()
            published = CounterMetricFamily(
                "bus_events_published", "Events published on the event bus."
            )
            published.add_metric([], stats["events_published"])
            yield published
            dropped = CounterMetricFamily(
                "bus_events_dropped", "Events refused because the bus queue was full."
            )
            dropped.add_metric([], stats["events_dropped"])
            yield dropped
        if alerts is not None:
            fired = CounterMetricFamily(
                "alerts_triggered", "Alerts written and published by this worker."
            )
            fired.add_metric([], alerts())
            yield fired


def _stream_families(streams: StreamManager) -> Iterator[Metric]:
    received = CounterMetricFamily(
        "stream_messages_received", "Frames received per stream.", labels=STREAM_LABELS
    )
    received_bytes = CounterMetricFamily(
        "stream_bytes_received", "Bytes received per stream.", labels=STREAM_LABELS
    )
    reconnections = CounterMetricFamily(
        "stream_reconnections", "Reconnections per stream.", labels=STREAM_LABELS
    )
    errors = CounterMetricFamily(
        "stream_errors", "Errors per stream.", labels=STREAM_LABELS
    )
    latency = GaugeMetricFamily(
        "stream_latency_ms", "Last ping round trip (ms).", labels=STREAM_LABELS
    )
    up = GaugeMetricFamily(
        "stream_up", "1 while the stream is connected.", labels=STREAM_LABELS
    )
    for stream_id, status in streams.get_all_status().items():
        m = streams.get_stream_metrics(stream_id)
        if m is None:
            continue
        labels = [stream_id, streams.get_provider(stream_id) or ""]
        received.add_metric(labels, m.messages_received)
        received_bytes.add_metric(labels, m.bytes_received)
        reconnections.add_metric(labels, m.reconnection_count)
        errors.add_metric(labels, m.error_count)
        latency.add_metric(labels, m.latency_ms)
        up.add_metric(labels, 1 if status is StreamStatus.CONNECTED else 0)
    yield from (received, received_bytes, reconnections, errors, latency, up)


class _HubCollector(Collector):
    """Browser sockets of this server process (the ConnectionManager hub)."""

    def __init__(self) -> None:
        self.hub: Any = None

    def collect(self) -> Iterator[Metric]:
        hub = self.hub
        if hub is None:
            return
        clients = GaugeMetricFamily(
            "ws_clients", "Browser WebSockets connected to this process."
        )
        clients.add_metric([], hub.get_local_client_count())
        yield clients
        sent = CounterMetricFamily(
            "ws_frames_sent", "Frames written to browser sockets by this process."
        )
        sent.add_metric([], hub.frames_delivered)
        yield sent
        dropped = CounterMetricFamily(
            "ws_slow_clients_dropped", "Browser sockets cut for falling behind."
        )
        dropped.add_metric([], hub.slow_clients_dropped)
        yield dropped


REGISTRY = CollectorRegistry(auto_describe=False)
_worker = _WorkerCollector()
_hub = _HubCollector()
REGISTRY.register(_worker)
REGISTRY.register(_hub)


def register_worker(
    streams: StreamManager,
    bus: StreamEventBus,
    alerts_triggered: Callable[[], int] | None = None,
) -> None:
    """Expose the running worker's pieces (one worker per process)."""
    _worker.streams, _worker.bus, _worker.alerts_triggered = (
        streams,
        bus,
        alerts_triggered,
    )


def unregister_worker() -> None:
    _worker.streams = _worker.bus = _worker.alerts_triggered = None


def register_hub(hub: Any) -> None:
    """Expose this process's ConnectionManager (``ws_*`` families)."""
    _hub.hub = hub


def render() -> bytes:
    """The Prometheus text exposition of this process."""
    return generate_latest(REGISTRY)
