"""What kept single events waiting (issue 19's tails): the handler table read
on the first event, housekeeping between a wake-up and its claim, and a
worker starved of SQLite's write lock by a busy producer."""

from __future__ import annotations

import sqlite3
import threading
import time

import psycopg
import pytest

from azora_store.sync import Router, Worker, WorkerConfig, handlers, register_handler
from tests.test_sync import FAST, Recorder, assert_counters_exact


def test_the_first_event_does_not_rescan_installed_plugins(store, monkeypatch) -> None:
    """The entry-point table is read when the worker is built, not when its
    first event (or first event of a new entity type) arrives."""
    handler = Recorder("first-event")
    register_handler(handler.name, lambda argument: handler)
    worker = Worker(store, Router({"*": handler.name}), WorkerConfig(**FAST))

    def no_scan(**_: object) -> None:
        raise AssertionError("entry points scanned while delivering")

    monkeypatch.setattr(handlers, "entry_points", no_scan)
    ids = [store.sync.enqueue("first-event", kind, 1, "UPDATE", {}).id
           for kind in ("Job", "Invoice")]
    while worker.run_once():
        pass
    assert sorted(event_id for event_id, _, _ in handler.calls) == ids
    assert store.sync.status().counts["COMPLETED"] == 2


def test_housekeeping_runs_while_a_handler_holds_the_main_loop(store) -> None:
    """A lease that expires while the worker's one loop is inside a handler
    is rescued meanwhile (not once the handler returns): housekeeping has a
    thread of its own. (The first round, before the first claim, finds the
    lease still valid.)"""
    entered, release = threading.Event(), threading.Event()

    class Blocking(Recorder):
        def __call__(self, event, store) -> None:
            entered.set()
            release.wait(30)
            super().__call__(event, store)

    handler = Blocking("chores")
    register_handler(handler.name, lambda argument: handler)
    stale = store.sync.enqueue("stale", "Job", 1, "UPDATE", {}).id
    assert [e.id for e in store.sync.claim("a-dead-worker", 10, 1.0, ("stale",))] == [stale]
    store.sync.enqueue("chores", "Job", 2, "UPDATE", {})  # another ordering key
    worker = Worker(store, Router({"chores": handler.name}),
                    WorkerConfig(**{**FAST, "housekeeping_every": 0.05,
                                    "services": ("chores",)}))
    runner = threading.Thread(target=worker.run)
    runner.start()
    try:
        assert entered.wait(10), "the worker never reached its handler"
        deadline = time.monotonic() + 10
        while (store.sync.counted().get(("stale", "PENDING")) != 1
               and time.monotonic() < deadline):
            time.sleep(0.02)
        assert not release.is_set() and entered.is_set()
        assert store.sync.counted().get(("stale", "PENDING")) == 1, store.sync.counted()
    finally:
        release.set()
        worker.stop()
        runner.join(10)
    assert not runner.is_alive()
    assert worker.stats.rescued == 1 and worker.stats.completed == 1
    assert_counters_exact(store)


def hold_write_lock(store, seconds: float, held: threading.Event) -> None:
    """Another connection holds the lock a worker's bookkeeping needs: SQLite's
    one write lock, or on Postgres an EXCLUSIVE lock on the outbox table."""
    url = store.backend.url
    if store.backend.name == "sqlite":
        conn = sqlite3.connect(url.database, isolation_level=None)
        conn.execute("BEGIN IMMEDIATE")
    else:
        conn = psycopg.connect(url.raw.split("?")[0])
        conn.execute("LOCK TABLE service_sync IN EXCLUSIVE MODE")
    held.set()
    time.sleep(seconds)
    conn.rollback() if store.backend.name != "sqlite" else conn.execute("ROLLBACK")
    conn.close()


@pytest.mark.parametrize("leased", [False, True])
def test_a_worker_waits_out_another_writer_then_delivers(store, leased) -> None:
    """The worker's write transaction waits for a lock another connection holds
    (on SQLite: retried every millisecond or less, not through SQLite's busy
    handler) and then delivers, exactly once, counters exact."""
    handler = Recorder("waits")
    register_handler(handler.name, lambda argument: handler)
    ids = [store.sync.enqueue("waits", "Job", n, "UPDATE", {}).id for n in range(3)]
    worker = Worker(store, Router({"*": handler.name}),
                    WorkerConfig(**{**FAST, "leased_only": leased}))
    held = threading.Event()
    holder = threading.Thread(target=hold_write_lock, args=(store, 0.3, held))
    holder.start()
    try:
        assert held.wait(10)
        while worker.run_once():
            pass
    finally:
        holder.join(10)
    assert sorted(event_id for event_id, _, _ in handler.calls) == ids
    assert store.sync.status().counts["COMPLETED"] == 3
    assert_counters_exact(store)


def test_a_write_lock_held_past_the_busy_timeout_is_a_clear_error(store, tmp_path) -> None:
    """Retrying promptly still gives up after the busy timeout with the
    package's DatabaseBusy (SQLite: ?busy_timeout=; Postgres: lock_timeout)."""
    from azora_store import open_store
    from azora_store.errors import DatabaseBusy

    held = threading.Event()
    holder = threading.Thread(target=hold_write_lock, args=(store, 1.5, held))
    holder.start()
    try:
        assert held.wait(10)
        if store.backend.name == "sqlite":
            other = open_store(f"sqlite:///{store.backend.url.database}?busy_timeout=200")
            with pytest.raises(DatabaseBusy), other.atomic():
                other.sync.enqueue("busy", "Job", 1, "UPDATE", {})
        else:
            other = open_store(store.backend.url.raw)
            with pytest.raises(DatabaseBusy), other.atomic():
                other.db.execute_sql("SET LOCAL lock_timeout = '200ms'")
                other.sync.enqueue("busy", "Job", 1, "UPDATE", {})
        other.close()
    finally:
        holder.join(10)
    assert store.sync.counted().get(("busy", "PENDING")) is None
