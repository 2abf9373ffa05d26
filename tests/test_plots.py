"""PNG plots: latency distributions from bench timings, Locust's latency over
time, and one line naming the extra when matplotlib is missing."""

from __future__ import annotations

import random
import sys

import pytest

from azora_store.bench.plots import Timings, latency_plots, timeline_plot
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
