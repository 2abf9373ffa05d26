"""Outbox throughput by workers (``azora_store/bench/sync_throughput.py``): a
backlog of events in a scratch database per backend, W worker processes
started together, the clock running until every event is COMPLETED; no event
may be delivered twice. Each sink of ``--throughput-sinks`` is measured with
1, 2 and 4 workers: ``in-transaction`` (the no-op handler inside the claim's
transaction), ``leased`` (the no-op handler outside it, like an external
handler), ``nats`` and ``rabbitmq`` (the broker on 127.0.0.1 acknowledges
each event; its stream or queue must hold exactly the backlog afterwards).

The figures (events per second) go to the run's table, its ``--bench-json``
file and its ``--bench-plot`` directory (``throughput-outbox.png``); they are
not gated (the shared runner's load moves them by 2x)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack
from typing import Any

import pytest

from azora_store.bench import broker_throughput, sync_throughput

WORKERS = (1, 2, 4)
BATCH = 250
#: Backlog per scale (the benchmark makes its own database; scale sets its size).
EVENTS = {"tiny": 1_000, "small": 10_000, "medium": 50_000, "large": 100_000}


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def throughput_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
                   ) -> Iterator[str]:
    with ExitStack() as cleanup:
        if request.param == "sqlite":
            yield f"sqlite:///{tmp_path_factory.mktemp('throughput') / 'throughput.db'}"
        else:  # a scratch database of this run, dropped after it
            yield cleanup.enter_context(request.getfixturevalue("pg_admin").scratch(
                "azora_bench_throughput"))


@pytest.mark.parametrize("workers", WORKERS)
def test_outbox_throughput(throughput_url: str, sink: str, workers: int, scale: str,
                           record_throughput: Any, request: pytest.FixtureRequest) -> None:
    events = request.config.getoption("--throughput-events") or EVENTS[scale]
    if sink in ("in-transaction", "leased"):
        result = sync_throughput.measure(throughput_url, workers, events, BATCH,
                                         leased=sink == "leased")
        assert result.duplicates == 0 and result.delivered == events, result
        backend, seconds = result.backend, result.seconds
    else:
        outcome = broker_throughput.measure(throughput_url, sink, workers, events, BATCH)
        assert outcome.in_broker == events, outcome  # the broker dropped the repeats
        backend, seconds = outcome.backend, outcome.seconds
    record_throughput(backend, sink, workers, events, BATCH, seconds)
