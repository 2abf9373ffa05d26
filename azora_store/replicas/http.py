"""The HTTP side of replica reads (falcon middleware and Prometheus metrics).

- A write (any method but GET/HEAD) answered 2xx carries the header
  ``Azora-Consistency-Token: <LSN>`` when the database has replicas; every
  read in a write request runs on the primary (its own answer included).
- A GET carrying that header is served by a replica only once it has replayed
  past the token (else the primary, after the router's short wait). A token
  that is not an LSN is refused (422 naming the header) on every backend.
- ``/metrics`` gains ``azora_db_reads_total{target, reason}`` (read paths per
  server, summed over the server's workers) and, per replica, its state, byte
  lag and time lag as of the answering worker's last health check.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

from prometheus_client import Counter
from prometheus_client.core import GaugeMetricFamily

from ..errors import AzoraError
from .lsn import TOKEN_HEADER, format_lsn, parse_lsn
from .router import PINNED, TOKEN, ReadRouter

log = logging.getLogger("azora_store.api")
READ_METHODS = frozenset({"GET", "HEAD"})
STATES = ("streaming", "lagging", "down", "promoted", "unknown")


class ReplicaCollector:
    """Each replica's state and lag, read when scraped."""

    def __init__(self, router: ReadRouter):
        self.router = router

    def collect(self) -> Iterator[GaugeMetricFamily]:
        self.router.maybe_check()
        up = GaugeMetricFamily("azora_replica_up", "1 if the replica serves reads (healthy "
                               "and within the lag limits)", labels=["replica"])
        state = GaugeMetricFamily("azora_replica_state", "1 for the replica's current state",
                                  labels=["replica", "state"])
        lag_bytes = GaugeMetricFamily("azora_replica_lag_bytes", "WAL bytes the replica has "
                                      "not replayed yet", labels=["replica"])
        lag_seconds = GaugeMetricFamily("azora_replica_lag_seconds", "How old the replica's "
                                        "data may be", labels=["replica"])
        for replica in self.router.replicas:
            up.add_metric([replica.name], 1.0 if replica.healthy else 0.0)
            for name in STATES:
                state.add_metric([replica.name, name], 1.0 if replica.state == name else 0.0)
            if replica.byte_lag is not None:
                lag_bytes.add_metric([replica.name], replica.byte_lag)
            if replica.time_lag is not None:
                lag_seconds.add_metric([replica.name], replica.time_lag)
        yield from (up, state, lag_bytes, lag_seconds)


class ConsistencyMiddleware:
    """Falcon middleware after the app's own (auth runs first, on the primary)."""

    def __init__(self, api: Any):
        self.api = api
        self._wired = False

    def _wire(self, reads: ReadRouter | None, release: bool) -> None:
        self._wired = True
        if reads is None:
            return
        reads.release = release
        metrics = self.api.metrics
        counter = Counter("azora_db_reads", "Read paths served, by server (primary or a "
                          "replica) and reason", ["target", "reason"], registry=metrics.registry)
        children: dict[tuple[str, str], Any] = {}

        def count(target: str, reason: str) -> None:
            child = children.get((target, reason))
            if child is None:
                child = children[(target, reason)] = counter.labels(target, reason)
            child.inc()

        reads.listeners.append(count)
        metrics.collectors.append(ReplicaCollector(reads))

    def process_resource(self, req: Any, resp: Any, resource: Any, params: Any) -> None:
        state = self.api.state
        if not self._wired:
            self._wire(state.store.backend.reads, state.release)
        resets = []
        if req.method in READ_METHODS:
            raw = req.get_header(TOKEN_HEADER)
            if raw is not None:
                position = parse_lsn(raw, field=TOKEN_HEADER)
                resets.append((TOKEN, TOKEN.set(max(TOKEN.get(), position))))
        else:
            resets.append((PINNED, PINNED.set(True)))
        req.context.azora_reads = resets

    def process_response(self, req: Any, resp: Any, resource: Any, req_succeeded: bool) -> None:
        for variable, reset in reversed(getattr(req.context, "azora_reads", ())):
            variable.reset(reset)
        state = self.api._state
        reads = state.store.backend.reads if state is not None else None
        if (reads is None or req.method in READ_METHODS or not req_succeeded
                or not 200 <= resp.status_code < 300):
            return
        try:
            resp.set_header(TOKEN_HEADER, format_lsn(reads.position()))
        except AzoraError as exc:  # the write stands; the client reads from the primary
            log.warning("no consistency token for %s %s: %s", req.method, req.path, exc)


__all__ = ["ConsistencyMiddleware", "ReplicaCollector"]
