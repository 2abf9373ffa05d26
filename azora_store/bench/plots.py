"""PNG plots of measured latencies (matplotlib, the ``[plots]`` extra).

``latency_plots`` draws, for each benchmarked query, one panel per backend with
the distribution of the package's timings beside the raw driver's for the same
SQL (timed in turns in the same loop), p50/p95/p99 marked. ``timeline_plot``
draws Locust's percentiles over a run from its ``--csv-full-history`` file.
matplotlib is imported only here, with the Agg backend (no display needed).
"""

from __future__ import annotations

import csv
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..support.extras import require

PACKAGE_COLOUR, RAW_COLOUR = "#2f6fde", "#9aa3af"
MARKS = ((50, "-"), (95, "--"), (99, ":"))


@dataclass
class Timings:
    """One benchmark's timings in milliseconds: the package's and its baseline's."""

    name: str
    backend: str
    package: list[float]
    raw: list[float]


def _pyplot(needed_by: str) -> Any:
    matplotlib = require("matplotlib", needed_by)
    matplotlib.use("Agg")
    return require("matplotlib.pyplot", needed_by)


def _percentile(values: Sequence[float], q: float) -> float:
    ordered = sorted(values)
    position = (len(ordered) - 1) * q / 100
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def file_name(name: str) -> str:
    return "".join(c if c.isalnum() or c in "-_" else "_" for c in name)


def latency_plots(results: Sequence[Timings], out_dir: Path | str,
                  needed_by: str = "azora-store bench --plot") -> list[Path]:
    """One PNG per query (a panel per backend); returns the files written."""
    plt = _pyplot(needed_by)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    by_name: dict[str, list[Timings]] = {}
    for timing in results:
        if timing.package:
            by_name.setdefault(timing.name, []).append(timing)
    written = []
    for name, timings in sorted(by_name.items()):
        timings.sort(key=lambda t: t.backend)
        fig, axes = plt.subplots(1, len(timings), figsize=(6.4 * len(timings), 4.2),
                                 squeeze=False)
        for ax, timing in zip(axes[0], timings, strict=True):
            _panel(ax, timing)
        fig.suptitle(f"{name}: latency per call (ms, log scale)")
        fig.tight_layout()
        path = out / f"latency-{file_name(name)}.png"
        fig.savefig(path, dpi=110)
        plt.close(fig)
        written.append(path)
    return written


def _panel(ax: Any, timing: Timings) -> None:
    values = [v for v in timing.package + timing.raw if v > 0]
    low, high = min(values), max(values)
    if high <= low:
        high = low * 1.1 + 1e-6
    bins = [low * (high / low) ** (n / 60) for n in range(61)]
    ax.hist(timing.package, bins=bins, color=PACKAGE_COLOUR, alpha=0.75, label="azora_store")
    if timing.raw:
        ax.hist(timing.raw, bins=bins, color=RAW_COLOUR, alpha=0.6, label="raw driver")
    ax.set_xscale("log")
    for q, style in MARKS:
        value = _percentile(timing.package, q)
        ax.axvline(value, color="#1d2330", linestyle=style, linewidth=1,
                   label=f"p{q} {value:.3g} ms")
    if timing.raw:
        raw50 = _percentile(timing.raw, 50)
        ax.axvline(raw50, color="#6b7280", linestyle="-", linewidth=1,
                   label=f"raw p50 {raw50:.3g} ms")
    ax.set_title(f"{timing.backend} ({len(timing.package)} calls)")
    ax.set_xlabel("milliseconds")
    ax.set_ylabel("calls")
    ax.legend(fontsize=8)


def timeline_plot(history_csv: Path | str, out_png: Path | str,
                  needed_by: str = "loadtests/run.py") -> Path | None:
    """p50/p95/p99 and requests/s over a Locust run (its ``_stats_history.csv``,
    the "Aggregated" rows). None when the file holds no sample."""
    rows = []
    with open(history_csv, newline="") as handle:
        for row in csv.DictReader(handle):
            if row.get("Name") == "Aggregated" and row.get("50%") not in (None, "", "N/A"):
                rows.append(row)
    if not rows:
        return None
    plt = _pyplot(needed_by)
    start = int(rows[0]["Timestamp"])
    seconds = [int(r["Timestamp"]) - start for r in rows]
    fig, ax = plt.subplots(figsize=(9, 4.2))
    for column, style in (("50%", "-"), ("95%", "--"), ("99%", ":")):
        values = [_number(r[column]) for r in rows]
        ax.plot(seconds, values, linestyle=style, color=PACKAGE_COLOUR, label=f"p{column[:-1]}")
    ax.set_xlabel("seconds into the run")
    ax.set_ylabel("response time (ms)")
    ax.set_yscale("log")
    rate = ax.twinx()
    rate.plot(seconds, [_number(r["Requests/s"]) for r in rows], color=RAW_COLOUR,
              label="requests/s")
    rate.set_ylabel("requests/s")
    lines, labels = ax.get_legend_handles_labels()
    more, more_labels = rate.get_legend_handles_labels()
    ax.legend(lines + more, labels + more_labels, fontsize=8, loc="upper left")
    ax.set_title("Locust: latency over time (all requests)")
    fig.tight_layout()
    fig.savefig(out_png, dpi=110)
    plt.close(fig)
    return Path(out_png)


def _number(raw: str) -> float:
    try:
        value = float(raw)
    except ValueError:
        return math.nan
    return value
