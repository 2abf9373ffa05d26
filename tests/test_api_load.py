"""The load gate (loadtests/gate.py): thresholds name the API's routes, and a
breach names the route and the figure."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field

import pytest

from azora_store.api.openapi import ROUTES
from loadtests.gate import THRESHOLDS, breaches, limits

# Every API route but the operator's (dead letters, blocked keys, actions: not
# in the load mix); sync status is.
LOADED = {r.label for r in ROUTES if r.path.startswith("/api/") and
          (not r.path.startswith("/api/sync/") or r.path == "/api/sync/status")}


@pytest.mark.parametrize("profile", sorted(tomllib.loads(THRESHOLDS.read_text())))
def test_every_profile_gates_every_api_route(profile: str) -> None:
    limit = limits(profile)
    assert set(limit["p95_ms"]) == LOADED
    assert limit["max_failure_ratio"] == 0.0


@dataclass
class Entry:
    num_requests: int
    p95: float = 5.0
    num_failures: int = 0

    def get_response_time_percentile(self, percent: float) -> float:
        assert percent == 0.95
        return self.p95

    @property
    def fail_ratio(self) -> float:
        return self.num_failures / self.num_requests if self.num_requests else 0.0


@dataclass
class Stats:
    entries: dict = field(default_factory=dict)
    total: Entry = field(default_factory=lambda: Entry(0))

    def __post_init__(self) -> None:
        self.total = Entry(sum(e.num_requests for e in self.entries.values()),
                           num_failures=sum(e.num_failures for e in self.entries.values()))
        self.total.total_rps = self.total.num_requests / 10.0


def stats(**changes: Entry) -> Stats:
    entries = {(label, label.split()[0]): Entry(1000) for label in LOADED}
    for label, entry in changes.items():
        entries[(label, label.split()[0])] = entry
    return Stats(entries)


def test_a_clean_run_passes() -> None:
    assert breaches(stats(), limits("medium") | {"min_rps": 100}) == []


def test_breaches_name_the_route_and_the_figure() -> None:
    limit = limits("medium")
    slow = stats(**{"GET /api/jobs": Entry(1000, p95=31.0)})
    assert "GET /api/jobs: p95 31 ms > 25 ms" in breaches(slow, limit)
    failing = stats(**{"POST /api/jobs": Entry(1000, num_failures=2)})
    assert any(p.startswith("failure ratio") and "2 of" in p for p in breaches(failing, limit))
    missing = Stats({(label, "GET"): Entry(1000) for label in LOADED if "POST" not in label})
    assert "POST /api/jobs: never requested" in breaches(missing, limit)
    assert any(p.startswith("throughput") for p in breaches(stats(), limit))
    assert breaches(Stats(), limit) == ["no requests were made"]
