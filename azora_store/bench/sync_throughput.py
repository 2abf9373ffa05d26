"""Outbox claim+complete throughput with real worker processes.

A backlog of N events is queued first; W worker processes open their stores and
wait at a start line; the clock runs from the start signal until every event
is COMPLETED. Duplicates are counted: the workers' claims must add up to N
exactly (a claim is a delivery), with no lost lease.

    python -m azora_store.bench.sync_throughput --db sqlite:///bench.db --workers 1 2 4
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import time
from dataclasses import asdict, dataclass
from typing import Any

SERVICE = "bench"
#: Seconds between the clock's status reads: each is a query on the cores the
#: workers use (every 5 ms it cost ~2 us of CPU an event); 20 ms bounds the
#: error to under 1% of a 3 s run.
POLL = 0.02


@dataclass
class Result:
    backend: str
    mode: str
    workers: int
    events: int
    batch: int
    seconds: float
    events_per_second: float
    delivered: int
    duplicates: int


def _worker(url: str, route: str, batch: int, ready: Any, start: Any, results: Any) -> None:
    from azora_store import open_store
    from azora_store.sync import Router, Worker, WorkerConfig

    with open_store(url) as store:
        store.db.connect(reuse_if_open=True)
        worker = Worker(store, Router({"*": route}),
                        WorkerConfig(batch=batch, exit_when_idle=True, idle_max=0.05))
        ready.release()
        start.wait()
        stats = worker.run()
    results.put({"claimed": stats.claimed, "completed": stats.completed,
                 "lost": stats.lost_leases})


def drain_backlog(url: str, route: str, workers: int, events: int, batch: int
                  ) -> tuple[str, float, list[dict[str, int]]]:
    """Enqueue a backlog of ``events`` and time ``workers`` spawned processes
    draining it through ``route``: (backend name, seconds, each worker's report)."""
    from azora_store import open_store

    with open_store(url) as store:
        store.migrate()
        store.db.execute_sql("DELETE FROM service_sync")
        store.sync.fold()
        store.sync.enqueue_many({"service": SERVICE, "entity_type": "Job", "entity_id": n,
                                 "operation": "UPDATE", "payload": {"n": n}}
                                for n in range(events))
        # The previous run's rows, deleted above, are setup garbage: clear them
        # now (Postgres: VACUUM) rather than in the first worker's housekeeping,
        # on the clock.
        store.backend.outbox_maintenance()
        backend = store.backend.name
        context = multiprocessing.get_context("spawn")
        ready, start, results = context.Semaphore(0), context.Event(), context.Queue()
        processes = [context.Process(target=_worker, args=(url, route, batch, ready, start,
                                                           results)) for _ in range(workers)]
        for process in processes:
            process.start()
        for _ in processes:
            ready.acquire()
        began = time.perf_counter()
        start.set()
        while store.sync.status().counts["COMPLETED"] < events:
            time.sleep(POLL)
        seconds = time.perf_counter() - began
        reports = [results.get(timeout=120) for _ in processes]
        for process in processes:
            process.join()
    return backend, seconds, reports


def measure(url: str, workers: int, events: int, batch: int = 100, leased: bool = False
            ) -> Result:
    route = "noop" if leased else "noop:transactional"
    backend, seconds, reports = drain_backlog(url, route, workers, events, batch)
    delivered = sum(report["claimed"] for report in reports)
    duplicates = delivered - events + sum(report["lost"] for report in reports)
    return Result(backend, "leased" if leased else "in-transaction", workers, events, batch,
                  round(seconds, 3), round(events / seconds), delivered, duplicates)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", required=True)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2, 4])
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--batch", type=int, default=100)
    parser.add_argument("--mode", choices=["in-transaction", "leased", "both"], default="both")
    parser.add_argument("--json", help="also write the results to this file")
    args = parser.parse_args()
    modes = [False, True] if args.mode == "both" else [args.mode == "leased"]
    results = []
    for leased in modes:
        for workers in args.workers:
            result = measure(args.db, workers, args.events, args.batch, leased)
            results.append(asdict(result))
            print(json.dumps(asdict(result)), flush=True)
    if args.json:
        with open(args.json, "w") as handle:
            json.dump(results, handle, indent=2)


if __name__ == "__main__":
    main()
