"""One event per round: the outbox worker at ``--batch 1`` beside huey's
``SqliteHuey`` draining the same backlog of no-op jobs on the same machine.

Both start from a backlog of N items in a fresh SQLite file in WAL mode. What
each commit waits for differs, so huey runs twice:

- ``huey``: its defaults, ``synchronous=FULL`` (huey leaves SQLite's default):
  every dequeue waits for an fsync of the WAL.
- ``huey_normal``: huey with ``synchronous=NORMAL``, the level the outbox's
  leased bookkeeping commits at (``Backend.outbox_bookkeeping``): no fsync a
  round. This is the like-for-like figure for ``outbox_leased``; comparing
  that with ``huey`` flatters the outbox by one fsync an event.
- ``outbox_in_transaction`` commits each event with its handler's effect at
  ``synchronous=FULL``: like-for-like with ``huey``.

huey runs its consumer's own per-task path (``dequeue`` then ``execute``) in a
loop in one process, timed inside it, without the consumer's scheduler
around it; the outbox runs a real worker process
(``azora_store.bench.sync_throughput``), leased (like an external handler) and
in-transaction, timed by the parent from the start signal until the status
counters read every event COMPLETED (polled every ``sync_throughput.POLL``,
20 ms: up to 20 ms on the outbox's clock, a few percent of a 3,000-event run
at 7k/s; give ``--events`` 10,000 or more for figures within 1%). Runs
alternate, so all see the same moments of the machine.

    python -m azora_store.bench.one_event --dir /tmp --events 5000 --repeat 3

(huey is not a dependency: ``pip install huey`` to run this.)
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import time
from typing import Any


def _huey_drain(path: str, events: int, synchronous: str | None, results: Any) -> None:
    from huey import SqliteHuey

    huey = SqliteHuey("bench", filename=path)
    if synchronous is not None:  # huey's one connection (it offers only FULL or OFF)
        huey.storage.conn.execute(f"PRAGMA synchronous = {synchronous}")

    @huey.task()
    def noop(n: int) -> None:
        return None

    for n in range(events):
        noop(n)
    began = time.perf_counter()
    done = 0
    while (task := huey.dequeue()) is not None:
        huey.execute(task)
        done += 1
    results.put((done, time.perf_counter() - began))


def huey_rate(directory: str, events: int, synchronous: str | None = None) -> float:
    """Tasks per second SqliteHuey's dequeue+execute drains from a backlog
    (``synchronous``: a level other than SQLite's default FULL)."""
    path = os.path.join(directory, f"h19_huey_{os.getpid()}.db")
    for suffix in ("", "-wal", "-shm"):
        if os.path.exists(path + suffix):
            os.unlink(path + suffix)
    context = multiprocessing.get_context("spawn")
    results = context.Queue()
    process = context.Process(target=_huey_drain, args=(path, events, synchronous,
                                                                 results))
    process.start()
    done, seconds = results.get(timeout=600)
    process.join()
    for suffix in ("", "-wal", "-shm"):
        if os.path.exists(path + suffix):
            os.unlink(path + suffix)
    assert done == events, f"huey drained {done} of {events}"
    return round(events / seconds)


def outbox_rate(directory: str, events: int, leased: bool) -> float:
    from azora_store.bench.sync_throughput import measure

    path = os.path.join(directory, f"h19_one_{os.getpid()}.db")
    try:
        result = measure(f"sqlite:///{path}", 1, events, batch=1, leased=leased)
        assert result.duplicates == 0, result
        return result.events_per_second
    finally:
        for suffix in ("", "-wal", "-shm"):
            if os.path.exists(path + suffix):
                os.unlink(path + suffix)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dir", default="/tmp")
    parser.add_argument("--events", type=int, default=5000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    for round_ in range(args.repeat):
        row = {"round": round_ + 1, "events": args.events,
               "huey": huey_rate(args.dir, args.events),
               "huey_normal": huey_rate(args.dir, args.events, synchronous="NORMAL"),
               "outbox_leased": outbox_rate(args.dir, args.events, leased=True),
               "outbox_in_transaction": outbox_rate(args.dir, args.events, leased=False)}
        print(json.dumps(row), flush=True)


if __name__ == "__main__":
    main()
