"""Percentiles from pytest-benchmark's timings, checked against thresholds.toml.

pytest-benchmark keeps every round's time but reports no p95/p99 and has no
absolute thresholds, so this module computes the percentiles from the raw data
and compares them with ``azora_store/bench/thresholds.toml``:

    [small.sqlite]
    "search" = { p99 = 10.0 }               # milliseconds; every search/... figure
    "search/text/p1" = { p99 = 5.0 }        # a longer key overrides what it names
    "user_stats" = { p99 = 1.0, p50_ratio = 1.25 }
    "search/space" = { p99 = 8.0, max = 50.0 }  # max: the slowest call

Each search class of ``azora_store/bench/space.py`` is its own figure
(``search/space/status-completed``, ``search/space/text``...), so a key over
them gates the worst class, not the mix.

``p50_ratio`` bounds the package's p50 over the p50 of its baseline, timed
interleaved with it (round by round) in the same loop: the raw driver running
the same SQL (the ORM overhead), or for writes the write without its event.
"""

from __future__ import annotations

import tomllib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

THRESHOLDS = Path(__file__).with_name("thresholds.toml")


def percentile(sorted_values: list[float], q: float) -> float:
    """Linear-interpolated percentile (q in [0, 100]) of sorted values."""
    if not sorted_values:
        return float("nan")
    position = (len(sorted_values) - 1) * q / 100
    low = int(position)
    high = min(low + 1, len(sorted_values) - 1)
    return sorted_values[low] + (sorted_values[high] - sorted_values[low]) * (position - low)


@dataclass
class Figures:
    name: str  # e.g. "search/text"
    backend: str
    rounds: int
    p50: float  # milliseconds
    p95: float
    p99: float
    raw_p50: float | None = None
    max: float = float("nan")  # the slowest call (warm-up excluded)

    @classmethod
    def from_seconds(cls, name: str, backend: str, timings: Sequence[float],
                     base_timings: Sequence[float] = ()) -> Figures:
        """Figures of ``timings``; ``raw_p50`` is the p50 of ``base_timings``
        (the baseline's, timed in the same loop), if any."""
        ms = sorted(t * 1000 for t in timings)
        base = sorted(t * 1000 for t in base_timings)
        return cls(name, backend, len(ms), percentile(ms, 50), percentile(ms, 95),
                   percentile(ms, 99), percentile(base, 50) if base else None,
                   ms[-1] if ms else float("nan"))

    @property
    def ratio(self) -> float | None:
        return self.p50 / self.raw_p50 if self.raw_p50 else None


@dataclass
class Rate:
    """One outbox throughput run: ``events`` drained by ``workers`` processes
    through ``sink`` in ``seconds``."""

    backend: str
    sink: str
    workers: int
    events: int
    batch: int
    seconds: float

    @property
    def per_second(self) -> float:
        return self.events / self.seconds if self.seconds > 0 else float("nan")

    def to_json(self) -> dict[str, float | int | str]:
        return {**vars(self), "events_per_second": round(self.per_second)}


def rate_table(rates: Sequence[Rate]) -> str:
    """Events per second: a row per backend and sink, a column per worker count."""
    counts = sorted({r.workers for r in rates})
    rows: dict[tuple[str, str], dict[int, Rate]] = {}
    for r in rates:
        rows.setdefault((r.backend, r.sink), {})[r.workers] = r
    lines = [f"{'backend':<11} {'sink':<15} {'events':>8} " +
             " ".join(f"{f'{n} worker' + ('s' if n > 1 else ''):>10}" for n in counts)]
    for (backend, sink), by_workers in sorted(rows.items()):
        events = max(r.events for r in by_workers.values())
        cells = " ".join(f"{by_workers[n].per_second:>10,.0f}" if n in by_workers else
                         f"{'':>10}" for n in counts)
        lines.append(f"{backend:<11} {sink:<15} {events:>8} {cells}")
    return "\n".join(lines)


def load_thresholds(scale: str, backend: str) -> dict[str, dict[str, float]]:
    with THRESHOLDS.open("rb") as handle:
        data = tomllib.load(handle)
    return data.get(scale, {}).get(backend, {})


def limits_for(name: str, thresholds: dict[str, dict[str, float]]) -> dict[str, float]:
    """The limits that apply to figure ``name``: those of every key that is the
    name or a ``/``-separated prefix of it, longer keys overriding shorter."""
    limits: dict[str, float] = {}
    for key in sorted(thresholds, key=len):
        if name == key or name.startswith(key + "/"):
            limits.update(thresholds[key])
    return limits


def breaches(figures: list[Figures], scale: str) -> list[str]:
    """One sentence per threshold a figure breaks."""
    found = []
    for figure in figures:
        limits = limits_for(figure.name, load_thresholds(scale, figure.backend))
        for key, limit in limits.items():
            if key == "p50_ratio":
                value = figure.ratio
                if value is not None and value > limit:
                    found.append(f"{figure.backend} {figure.name}: p50 is {value:.2f}x the raw "
                                 f"driver's, above the {limit}x threshold ({scale})")
                continue
            value = getattr(figure, key)
            if value is not None and value > limit:
                found.append(f"{figure.backend} {figure.name}: {key} {value:.3f} ms is above the "
                             f"{limit} ms threshold ({scale})")
    return found


def table(figures: list[Figures]) -> str:
    width = max([len("query"), *(len(f.name) for f in figures)])
    lines = [f"{'backend':<11} {'query':<{width}} {'rounds':>6} {'p50 ms':>8} {'p95 ms':>8} "
             f"{'p99 ms':>8} {'max ms':>8} {'base p50':>8} {'ratio':>6}"]
    for f in sorted(figures, key=lambda f: (f.backend, f.name)):
        raw = f"{f.raw_p50:8.3f}" if f.raw_p50 else f"{'':>8}"
        ratio = f"{f.ratio:6.2f}" if f.ratio else f"{'':>6}"
        lines.append(f"{f.backend:<11} {f.name:<{width}} {f.rounds:>6} {f.p50:8.3f} {f.p95:8.3f} "
                     f"{f.p99:8.3f} {f.max:8.3f} {raw} {ratio}")
    return "\n".join(lines)
