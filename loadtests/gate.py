"""The load gate: thresholds from ``thresholds.toml`` and the check of Locust's
stats against them (used by ``locustfile.py`` when Locust quits; kept free of
Locust so tests can import it)."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

THRESHOLDS = Path(__file__).resolve().parent / "thresholds.toml"


def limits(profile: str, path: Path = THRESHOLDS) -> dict[str, Any]:
    """The ``[default]`` thresholds overlaid with ``[<profile>]``."""
    table = tomllib.loads(path.read_text())
    merged = dict(table.get("default", {}))
    for key, value in table.get(profile, {}).items():
        merged[key] = {**merged.get(key, {}), **value} if isinstance(value, dict) else value
    return merged


def breaches(stats: Any, limit: dict[str, Any]) -> list[str]:
    """What in Locust's ``stats`` breaks ``limit``: one sentence per breach, naming
    the route and the figure."""
    total = stats.total
    if total.num_requests == 0:
        return ["no requests were made"]
    problems = []
    max_failures = limit.get("max_failure_ratio", 0.0)
    if total.fail_ratio > max_failures:
        problems.append(f"failure ratio {total.fail_ratio:.4f} > {max_failures} "
                        f"({total.num_failures} of {total.num_requests} failed)")
    min_rps = limit.get("min_rps", 0)
    if min_rps and total.total_rps < min_rps:
        problems.append(f"throughput {total.total_rps:.0f} req/s < {min_rps} req/s")
    by_name = {name: entry for (name, _), entry in stats.entries.items()}
    for name, p95_ms in limit.get("p95_ms", {}).items():
        entry = by_name.get(name)
        if entry is None or entry.num_requests == 0:
            problems.append(f"{name}: never requested")
            continue
        p95 = entry.get_response_time_percentile(0.95)
        if p95 > p95_ms:
            problems.append(f"{name}: p95 {p95:.0f} ms > {p95_ms} ms")
    return problems
