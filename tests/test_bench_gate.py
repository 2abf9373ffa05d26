"""The benchmark gate (azora_store/bench/gate.py): percentiles from raw timings, and
thresholds.toml keys that cover a figure and everything under it; the package
and its baseline timed in turns (azora_store/bench/turns.py)."""

from __future__ import annotations

from azora_store.bench.gate import Figures, breaches, limits_for, load_thresholds, percentile, table
from azora_store.bench.turns import in_turns


def test_percentile_interpolates_between_ranks():
    values = [float(v) for v in range(1, 101)]
    assert percentile(values, 50) == 50.5
    assert percentile(values, 99) == 99.01
    assert percentile([3.0], 99) == 3.0


def test_a_key_covers_the_figures_under_it_and_longer_keys_override():
    thresholds = {"search": {"p99": 10.0, "p50_ratio": 2.0},
                  "search/text": {"p99": 5.0}, "user_stats": {"p99": 1.0}}
    assert limits_for("search/text/p1", thresholds) == {"p99": 5.0, "p50_ratio": 2.0}
    assert limits_for("search/skill/p2", thresholds) == {"p99": 10.0, "p50_ratio": 2.0}
    assert limits_for("searching", thresholds) == {}
    assert limits_for("user_stats", thresholds) == {"p99": 1.0}


def test_every_target_query_is_gated_at_small_scale_on_both_backends():
    for backend in ("sqlite", "postgresql"):
        gates = load_thresholds("small", backend)
        for name in ("search/text+skill/p1", "user_stats", "sync_status", "kyc_lookup/document"):
            assert limits_for(name, gates).get("p95"), (backend, name)


def test_a_breach_names_the_backend_query_percentile_and_figure():
    slow = Figures("search/text/p1", "sqlite", 300, p50=2.0, p95=12.5, p99=14.0, raw_p50=0.5)
    fast = Figures("user_stats", "postgresql", 300, p50=0.2, p95=0.3, p99=0.4, raw_p50=0.2)
    found = breaches([slow, fast], "small")
    assert "sqlite search/text/p1: p95 12.500 ms is above the 10.0 ms threshold (small)" in found
    assert any("p50 is 4.00x the raw driver's" in line for line in found)
    assert not [line for line in found if "user_stats" in line]
    assert "search/text/p1" in table([slow, fast])


def test_a_base_p50_comes_from_the_base_timings():
    figure = Figures.from_seconds("user_stats", "sqlite", [0.002, 0.004, 0.003], [0.001, 0.003])
    assert (figure.rounds, figure.p50, figure.raw_p50, figure.ratio) == (3, 3.0, 2.0, 1.5)
    assert Figures.from_seconds("user_stats", "sqlite", [0.002]).raw_p50 is None


def test_each_round_runs_a_call_and_another_draws_base_taking_turns_first(benchmark):
    """Back to back, alternating which goes first; the base is of the draw half
    the list away, so no call follows its own statements."""
    ran = []
    calls = [lambda d=d: ran.append(f"call{d}") for d in range(3)]
    bases = [lambda d=d: ran.append(f"base{d}") for d in range(3)]
    base_seconds = in_turns(benchmark, calls, bases, rounds=4, warmup_rounds=3)
    assert ran == ["base1", "call0", "call1", "base2", "base0", "call2",  # warm-up: every draw
                   "call0", "base1", "base2", "call1", "call2", "base0", "base1", "call0"]
    assert len(benchmark.stats.stats.data) == len(base_seconds) == 4  # warm-up dropped
    assert all(seconds > 0 for seconds in base_seconds)


def test_the_max_is_kept_and_gated_per_class():
    """Each search class of the whole space is its own figure: the worst class
    breaches though the mix would not, and a max limit applies to the slowest call."""
    worst = Figures.from_seconds("search/space/status-completed", "sqlite",
                                 [0.001] * 99 + [0.060])
    assert worst.max == 60.0
    found = breaches([worst], "large")
    assert any("search/space/status-completed: max 60.000 ms is above the 50.0 ms" in line
               for line in found)
    assert "max ms" in table([worst])
    for backend in ("sqlite", "postgresql"):
        limits = limits_for("search/space/mix", load_thresholds("large", backend))
        assert limits["p99"] <= 8.0 and limits["max"] <= 50.0
