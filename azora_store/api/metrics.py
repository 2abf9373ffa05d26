"""Prometheus metrics of the API (prometheus_client).

- ``azora_http_requests_total{route, method, status}``: a Counter;
- ``azora_http_request_duration_seconds{route}``: a Histogram of latency;
- ``azora_outbox_events{status}``, ``azora_outbox_service_events{service, status}``
  and ``azora_outbox_oldest_pending_age_seconds``: Gauges read from
  ``sync_status`` on each scrape (exact counters, O(1)), so they are the same
  whichever worker answers.

Request metrics live in a registry of their own per app. Under ``azora-store
serve`` (several gunicorn workers) prometheus_client's multiprocess mode is on
(``PROMETHEUS_MULTIPROC_DIR``, set by the server before any worker starts): each
worker writes its samples to memory-mapped files and ``/metrics`` sums every
worker's, dead ones included, so counters never go backwards when a worker is
replaced.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.exposition import CONTENT_TYPE_LATEST

from . import MULTIPROC_ENV

BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0)
CONTENT_TYPE = CONTENT_TYPE_LATEST
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


class OutboxCollector:
    """Outbox counts as gauges, read when scraped."""

    def __init__(self, status: Callable[[], Any]):
        self.status = status

    def collect(self) -> Iterator[GaugeMetricFamily]:
        report = self.status()
        events = GaugeMetricFamily("azora_outbox_events", "Outbox events by status",
                                   labels=["status"])
        for status, count in report.counts.items():
            events.add_metric([status], count)
        yield events
        per_service = GaugeMetricFamily("azora_outbox_service_events",
                                        "Outbox events by service and status",
                                        labels=["service", "status"])
        for service, counts in report.services.items():
            for status, count in counts.items():
                per_service.add_metric([service, status], count)
        yield per_service
        age = report.oldest_pending_age
        yield GaugeMetricFamily("azora_outbox_oldest_pending_age_seconds",
                                "Age of the oldest PENDING event (0 when none)",
                                value=age or 0.0)


class Metrics:
    """Request counters and latencies of one app."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.requests = Counter("azora_http_requests", "HTTP requests answered",
                                ["route", "method", "status"], registry=self.registry)
        self.latency = Histogram("azora_http_request_duration_seconds",
                                 "Time from request to response, by route", ["route"],
                                 buckets=BUCKETS, registry=self.registry)
        #: More collectors read when scraped (e.g. the replicas' state).
        self.collectors: list[Any] = []
        self._counters: dict[tuple[str, str, int], Any] = {}
        self._histograms: dict[str, Any] = {}

    def observe(self, route: str, method: str, status: int, seconds: float) -> None:
        if method not in METHODS:
            method = "OTHER"
        key = (route, method, status)
        counter = self._counters.get(key)
        if counter is None:
            counter = self._counters[key] = self.requests.labels(route, method, str(status))
        counter.inc()
        histogram = self._histograms.get(route)
        if histogram is None:
            histogram = self._histograms[route] = self.latency.labels(route)
        histogram.observe(seconds)

    def render(self, status: Callable[[], Any]) -> bytes:
        """The exposition text: request metrics (every worker's, in multiprocess
        mode) and the outbox gauges."""
        if os.environ.get(MULTIPROC_ENV):
            from prometheus_client import multiprocess

            workers = CollectorRegistry(auto_describe=False)
            multiprocess.MultiProcessCollector(workers)
            text = generate_latest(workers)
        else:
            text = generate_latest(self.registry)
        outbox = CollectorRegistry(auto_describe=False)
        outbox.register(OutboxCollector(status))
        for collector in self.collectors:
            outbox.register(collector)
        return text + generate_latest(outbox)
