"""Look-ups by id from cold pages, one fresh process per run (issue 14).

    python -m azora_store.bench.cold_lookups --db URL [--rounds 1000] [--query user_stats]
        [--evict]

Each run opens a new process and a new connection (SQLite: an empty page
cache; Postgres: a new server process, though shared_buffers and the OS cache
keep what others read), draws ``2 x rounds`` distinct ids uniformly over the
whole id range (users for user_stats and kyc_lookup: ids without a row are
accepted requests too, answered NotFound), and times the package's call on
one id and the raw driver running the same SQL on another, in turns, so that
no timed call reads an id read before. Prints p50/p95/p99/max per query and
the ratio of the package's p50 to the raw driver's.

``--evict`` first drops the database's own files from the OS page cache
(:mod:`azora_store.bench.evict`), so that the timed calls read the disk; on
Postgres the output also counts the blocks the timed calls read from outside
``shared_buffers`` and found in it.
"""

from __future__ import annotations

import argparse
import json
import random
import time
from collections.abc import Callable
from typing import Any

from azora_store import open_store
from azora_store.bench.evict import evict
from azora_store.bench.gate import percentile
from azora_store.errors import NotFound
from azora_store.search.plans import capture

WARMUP = 20  # calls on other ids first: code paths and the b-tree's upper levels


def _timed(call: Callable[[], Any]) -> float:
    start = time.perf_counter()
    try:  # noqa: SIM105 - cheaper than contextlib.suppress inside the timing
        call()
    except NotFound:
        pass
    return time.perf_counter() - start


def _figures(package: list[float], raw: list[float]) -> dict[str, float]:
    ms, base = sorted(t * 1000 for t in package), sorted(t * 1000 for t in raw)
    out = {f"p{q}": round(percentile(ms, q), 4) for q in (50, 95, 99)}
    out["max"] = round(ms[-1], 4)
    out["raw_p50"] = round(percentile(base, 50), 4)
    out["raw_p99"] = round(percentile(base, 99), 4)
    out["ratio"] = round(out["p50"] / out["raw_p50"], 3)
    return out


def measure(url: str, query: str, rounds: int, seed: int = 11, cold: bool = False
            ) -> dict[str, Any]:
    with open_store(url) as store:
        q, backend = store.queries, store.backend
        connection = store.db.connection()
        calls: dict[str, Callable[[Any], Any]] = {
            "user_stats": q.user_stats,
            "kyc_lookup": lambda user: q.kyc_lookup(user_id=user),
            "sync_status": lambda _: store.sync.status(),
        }
        call = calls[query]
        low, high = store.db.execute_sql("SELECT MIN(id), MAX(id) FROM users").fetchone()
        rng = random.Random(seed)
        ids = rng.sample(range(low, high + 1), 2 * rounds + 2 * WARMUP + 1)
        probe, ids = ids[0], ids[1:]
        statements = capture(store, lambda: call(probe))
        keyed = bool(statements) and all(params == [probe] for _, params, _ in statements)

        def raw(key: Any) -> Callable[[], Any]:
            return lambda: [backend.run_on(connection, sql, [key] if keyed else params, again)
                            for sql, params, again in statements]

        evicted = evict(store) if cold else None
        for k in range(WARMUP):
            _timed(lambda key=ids[2 * k]: call(key))
            _timed(raw(ids[2 * k + 1]))
        package, base = [], []
        before = store.backend.buffer_reads()
        for k in range(WARMUP, WARMUP + rounds):
            mine, theirs = ids[2 * k], ids[2 * k + 1]
            if k % 2:
                package.append(_timed(lambda key=mine: call(key)))
                base.append(_timed(raw(theirs)))
            else:
                base.append(_timed(raw(theirs)))
                package.append(_timed(lambda key=mine: call(key)))
        after = store.backend.buffer_reads()
        out = {"query": query, "backend": backend.name, "rounds": rounds,
               "ids": f"{low}..{high}", **_figures(package, base)}
        if evicted is not None:
            out["evicted"] = evicted
        if before is not None and after is not None:
            out["blocks_read"], out["blocks_hit"] = after[0] - before[0], after[1] - before[1]
        return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", required=True)
    parser.add_argument("--rounds", type=int, default=1000)
    parser.add_argument("--query", choices=["user_stats", "kyc_lookup", "sync_status"],
                        default="user_stats")
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--evict", action="store_true",
                        help="drop the database's files from the OS page cache first")
    args = parser.parse_args()
    print(json.dumps(measure(args.db, args.query, args.rounds, args.seed, args.evict)))


if __name__ == "__main__":
    main()
