"""Outbox commit-to-delivery latency at steady rates (``azora_store/bench/latency.py``):
one idle worker process, events enqueued one per transaction at 20, 200 and
2,000 a second, each timed from its commit to its handler call. Gated on p99
and the slowest event (thresholds.toml: ``latency``)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack
from typing import Any

import pytest

from azora_store.bench.gate import Figures
from azora_store.bench.latency import measure as measure_latency

RATES = (20, 200, 2000)


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def latency_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
                ) -> Iterator[str]:
    with ExitStack() as cleanup:
        if request.param == "sqlite":
            yield f"sqlite:///{tmp_path_factory.mktemp('latency') / 'latency.db'}"
        else:  # a scratch database of this run, dropped after it
            yield cleanup.enter_context(request.getfixturevalue("pg_admin").scratch(
                "azora_bench_latency"))


@pytest.mark.parametrize("rate", RATES)
def test_commit_to_delivery(latency_url: str, rate: int, record_figures: Any,
                            request: pytest.FixtureRequest) -> None:
    seconds = request.config.getoption("--latency-seconds")
    result = measure_latency(latency_url, rate, seconds)
    assert result.delivered == result.events and result.duplicates == 0, result
    record_figures(Figures(f"latency/{rate}_per_s", result.backend, result.events,
                           result.p50, result.p95, result.p99, max=result.max))
