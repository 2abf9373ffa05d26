"""Commit-to-delivery latency of the outbox at a steady event rate.

One worker process (default configuration, a non-transactional handler like
``sync worker --route '*=noop'``) waits on an empty outbox; this process then
enqueues one event per transaction through the Python API at a fixed rate.
Each event's latency is the time from the producer's commit returning to the
handler being called with it, both read from ``time.monotonic()`` (one clock
for every process on Linux), so no wall-clock step or database timestamp
rounding enters the figures.

    python -m azora_store.bench.latency --db sqlite:///lat.db --rates 20 200 2000 --seconds 5

Run it against another checkout of the package (``PYTHONPATH=/path/to/old``)
to get figures before and after a change in one sitting: only the public
``Worker`` / ``Router`` / ``register_handler`` / ``enqueue`` API is used.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import threading
import time
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ..store import Store

SERVICE = "latency"
HANDLER = "latency-stamp"
SETTLE = 0.6  # seconds of quiet before the first event: the worker is idle by then


@dataclass
class Latency:
    backend: str
    rate: int  # events per second asked for
    achieved: float  # events per second the producer managed
    events: int
    delivered: int
    duplicates: int
    p50: float  # milliseconds
    p95: float
    p99: float
    max: float


class Stamp:
    """A handler that notes when each event reached it."""

    name = HANDLER
    transactional = False

    def __init__(self) -> None:
        self.seen: list[tuple[int, float]] = []

    def __call__(self, event: Any, store: Store) -> None:
        self.seen.append((event.id, time.monotonic()))


def _worker(url: str, config: dict[str, Any], ready: Any, stop: Any, results: Any) -> None:
    from azora_store import open_store
    from azora_store.sync import Router, Worker, WorkerConfig, register_handler

    stamp = Stamp()
    register_handler(HANDLER, lambda argument: stamp)
    with open_store(url) as store:
        worker = Worker(store, Router({"*": HANDLER}), WorkerConfig(**config))
        threading.Thread(target=lambda: (stop.wait(), worker.stop()), daemon=True).start()
        ready.release()
        worker.run()
    results.put(stamp.seen)


def _percentile(values: list[float], q: float) -> float:
    from azora_store.bench.gate import percentile

    return percentile(values, q)


def measure(url: str, rate: int, seconds: float, config: dict[str, Any] | None = None,
            timeout: float = 30.0) -> Latency:
    """Enqueue ``rate`` events a second for ``seconds`` against one idle worker
    and return the commit-to-delivery percentiles."""
    from azora_store import open_store

    with open_store(url) as store:
        store.migrate()
        store.db.execute_sql("DELETE FROM service_sync")
        store.sync.fold()
        context = multiprocessing.get_context("spawn")
        ready, stop, results = context.Semaphore(0), context.Event(), context.Queue()
        process = context.Process(target=_worker, args=(url, config or {}, ready, stop,
                                                        results))
        process.start()
        try:
            ready.acquire()
            time.sleep(SETTLE)
            committed = _produce(store, rate, seconds)
            began = min(committed.values(), default=time.monotonic())
            achieved = len(committed) / max(time.monotonic() - began, 1e-9)
            _wait_delivered(store, len(committed), timeout)
        finally:
            stop.set()
        seen = results.get(timeout=timeout)
        process.join(timeout)
        backend = store.backend.name
    delivered = {}
    for event_id, at in seen:
        delivered.setdefault(event_id, at)  # the first delivery counts
    ms = sorted(max(0.0, delivered[i] - committed[i]) * 1000 for i in committed
                if i in delivered)
    return Latency(backend, rate, round(achieved, 1), len(committed), len(delivered),
                   len(seen) - len(delivered), round(_percentile(ms, 50), 3),
                   round(_percentile(ms, 95), 3), round(_percentile(ms, 99), 3),
                   round(ms[-1], 3) if ms else float("nan"))


def _produce(store: Store, rate: int, seconds: float) -> dict[int, float]:
    """One event per transaction on a fixed schedule (a late event is sent at
    once, without shifting the ones after it). Returns id -> commit time."""
    committed: dict[int, float] = {}
    start = time.monotonic()
    for n in range(max(1, int(rate * seconds))):
        due = start + n / rate
        pause = due - time.monotonic()
        if pause > 0:
            time.sleep(pause)
        with store.atomic():
            event = store.sync.enqueue(SERVICE, "Job", n % 97, "UPDATE", {"n": n})
        committed[event.id] = time.monotonic()
    return committed


def _wait_delivered(store: Store, events: int, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if store.sync.status().counts["COMPLETED"] >= events:
            return
        time.sleep(0.01)
    raise TimeoutError(f"{events} events were not all delivered within {timeout:.0f}s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", required=True)
    parser.add_argument("--rates", type=int, nargs="+", default=[20, 200, 2000])
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--batch", type=int, help="the worker's --batch (default: its own)")
    args = parser.parse_args()
    config = {} if args.batch is None else {"batch": args.batch}
    for rate in args.rates:
        print(json.dumps(asdict(measure(args.db, rate, args.seconds, config))), flush=True)


if __name__ == "__main__":
    main()
