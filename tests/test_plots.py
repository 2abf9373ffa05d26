"""PNG plots: latency distributions from bench timings, Locust's latency over
time, and one line naming the extra when matplotlib is missing."""

from __future__ import annotations

import random
import sys

import pytest

from azora_store.bench.gate import Rate, rate_table
from azora_store.bench.plots import Timings, latency_plots, throughput_plot, timeline_plot
from azora_store.errors import ConfigurationError

PNG = b"\x89PNG\r\n\x1a\n"


def test_latency_plots_one_png_per_query(tmp_path) -> None:
    pytest.importorskip("matplotlib")
    rng = random.Random(1)
    timings = [Timings(name, backend, [rng.lognormvariate(0, 0.5) for _ in range(300)],
                       [rng.lognormvariate(-0.2, 0.4) for _ in range(300)])
               for name in ("search/text/p1", "failed_page/deep")
               for backend in ("postgresql", "sqlite")]
    written = latency_plots(timings, tmp_path / "plots")
    assert [p.name for p in written] == ["latency-failed_page_deep.png",
                                         "latency-search_text_p1.png"]
    for path in written:
        assert path.read_bytes().startswith(PNG) and path.stat().st_size > 10_000


def test_throughput_plot_and_table_by_workers(tmp_path) -> None:
    pytest.importorskip("matplotlib")
    rates = [Rate(backend, sink, workers, 10_000, 250, 10_000 / (base * workers ** 0.5))
             for backend, base in (("postgresql", 15_000), ("sqlite", 40_000))
             for sink in ("in-transaction", "leased", "nats") for workers in (1, 2, 4)]
    out = throughput_plot(rates, tmp_path / "throughput-outbox.png")
    assert out.read_bytes().startswith(PNG) and out.stat().st_size > 10_000
    lines = rate_table(rates).splitlines()
    assert lines[0].split() == ["backend", "sink", "events", "1", "worker", "2", "workers",
                                "4", "workers"]
    assert lines[1].split() == ["postgresql", "in-transaction", "10000", "15,000", "21,213",
                                "30,000"]
    assert len(lines) == 7 and Rate("sqlite", "leased", 1, 10, 1, 0.5).to_json()[
        "events_per_second"] == 20


def test_timeline_plot_reads_locust_history(tmp_path) -> None:
    pytest.importorskip("matplotlib")
    history = tmp_path / "locust_stats_history.csv"
    lines = ["Timestamp,User Count,Type,Name,Requests/s,Failures/s,50%,66%,75%,80%,90%,95%,"
             "98%,99%,99.9%,99.99%,100%"]
    for n in range(20):
        lines.append(f"{1_700_000_000 + n},16,,Aggregated,{300 + n},0,{4 + n % 3},5,6,7,8,"
                     f"{12 + n % 5},14,{20 + n},30,31,40")
    lines.append(f"{1_700_000_030},16,GET,/api/jobs,10,0,N/A,N/A,N/A,N/A,N/A,N/A,N/A,N/A,N/A,"
                 "N/A,N/A")
    history.write_text("\n".join(lines) + "\n")
    out = timeline_plot(history, tmp_path / "latency.png")
    assert out is not None and out.read_bytes().startswith(PNG)
    empty = tmp_path / "empty.csv"
    empty.write_text(lines[0] + "\n")
    assert timeline_plot(empty, tmp_path / "none.png") is None


def test_missing_matplotlib_names_the_extra(tmp_path, monkeypatch) -> None:
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # as if not installed
    with pytest.raises(ConfigurationError, match=r"pip install 'azora_store\[plots\]'"):
        latency_plots([Timings("q", "sqlite", [1.0], [1.0])], tmp_path)
