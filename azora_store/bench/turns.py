"""The package's call and its baseline timed in turns, in one pytest-benchmark
loop, so that both see the same moments of a noisy machine."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Any


def in_turns(benchmark: Any, calls: Sequence[Callable[[], Any]],
             bases: Sequence[Callable[[], Any]], rounds: int, warmup_rounds: int
             ) -> list[float]:
    """Time ``calls`` with ``benchmark.pedantic`` and each call's base right
    next to it; return the bases' seconds (the calls' are the benchmark's).

    Round k runs the call of draw k and the base of the draw half the list
    away, back to back, the base first in even rounds and second in odd ones:
    neither always finds the cache the other warmed, and no call runs right
    after its own statements did (that flattered page 2 of a search; with a
    single call, as for ``sync_status``, it cannot be helped). The base
    runs in pytest-benchmark's untimed setup or teardown, timed here with
    ``time.perf_counter`` (pytest-benchmark's default timer). The warm-up
    rounds run both; their base times are dropped.
    """
    assert len(calls) == len(bases), "one base per call"
    base_seconds: list[float] = []
    k = -1

    def time_base() -> None:
        start = time.perf_counter()
        bases[(k + len(bases) // 2) % len(bases)]()
        base_seconds.append(time.perf_counter() - start)

    def before() -> None:
        nonlocal k
        k += 1
        if k % 2 == 0:
            time_base()

    def after() -> None:
        if k % 2:
            time_base()

    benchmark.pedantic(lambda: calls[k % len(calls)](), setup=before, teardown=after,
                       rounds=rounds, warmup_rounds=warmup_rounds, iterations=1)
    return base_seconds[warmup_rounds:]
