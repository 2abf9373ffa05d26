"""Idle workers are woken by commits (Postgres LISTEN/NOTIFY, SQLite's WAL),
and the one-event path settles a round's deliveries with the next claim."""

from __future__ import annotations

import threading
import time

from azora_store import open_store
from azora_store.sync import Router, Worker, WorkerConfig, register_handler
from tests.test_sync import Recorder, assert_counters_exact


def other_connection(store):
    """A second store on the same database: another connection, like a producer
    in another process."""
    return open_store(store.backend.url.raw)


def test_a_commit_wakes_the_waiter_a_rollback_does_not(store) -> None:
    waiter = store.backend.outbox_waiter()
    producer = other_connection(store)
    try:
        assert waiter.wait(0.05) is False  # nothing happened
        try:
            with producer.atomic():
                producer.sync.enqueue("search", "Job", 1, "UPDATE", {})
                raise RuntimeError("roll back")
        except RuntimeError:
            pass
        assert waiter.wait(0.3) is False  # nothing was committed
        with producer.atomic():  # three events, one transaction: one wake-up
            for n in range(3):
                producer.sync.enqueue("search", "Job", n, "UPDATE", {})
            producer.sync.enqueue_many([{"service": "search", "entity_type": "Job",
                                         "entity_id": 9, "operation": "UPDATE"}])
        assert waiter.wait(5.0) is True
        assert waiter.wait(0.3) is False
    finally:
        waiter.close()
        producer.close()


def test_an_idle_worker_claims_a_new_event_at_once(store) -> None:
    """The worker polls only every 30 s here: only the commit's wake-up can bring
    it the event within the 10 s this test waits."""
    delivered = threading.Event()

    class Signal(Recorder):
        def __call__(self, event, store) -> None:
            super().__call__(event, store)
            delivered.set()

    handler = Signal("wakeup")
    register_handler(handler.name, lambda argument: handler)
    worker = Worker(store, Router({"*": handler.name}),
                    WorkerConfig(idle_min=30.0, idle_max=30.0, housekeeping_every=60.0))
    runner = threading.Thread(target=worker.run)
    runner.start()
    producer = other_connection(store)
    try:
        time.sleep(0.5)  # it finds the outbox empty and starts waiting
        with producer.atomic():
            producer.sync.enqueue("wakeup", "Job", 1, "UPDATE", {})
        assert delivered.wait(10.0), "the idle worker was not woken by the commit"
    finally:
        worker.stop()
        runner.join(10)
        producer.close()
    assert not runner.is_alive(), "stop() did not end the wait"
    assert store.sync.status().counts["COMPLETED"] == 1


def test_one_event_rounds_keep_order_counters_and_exactly_one_delivery(store) -> None:
    """--batch 1 completes each delivery in the next claim's transaction: every
    key still in order, each event delivered once, counters exact, and nothing
    left PROCESSING when the worker stops."""
    handler = Recorder("single")
    register_handler(handler.name, lambda argument: handler)
    store.sync.enqueue_many({"service": "single", "entity_type": "Job", "entity_id": n % 7,
                             "operation": "UPDATE", "payload": {"n": n}} for n in range(120))
    worker = Worker(store, Router({"*": handler.name}),
                    WorkerConfig(batch=1, exit_when_idle=True, idle_max=0.01))
    worker.run()
    ids = [call[0] for call in handler.calls]
    assert sorted(ids) == sorted(set(ids)) and len(ids) == 120
    for key in {call[1] for call in handler.calls}:
        of_key = [call[0] for call in handler.calls if call[1] == key]
        assert of_key == sorted(of_key), key
    assert store.sync.status().counts == {"PENDING": 0, "PROCESSING": 0, "COMPLETED": 120,
                                          "FAILED": 0}
    assert worker.stats.completed == 120 and worker.stats.lost_leases == 0
    assert_counters_exact(store)


def test_a_worker_stopping_mid_stream_completes_what_it_delivered(store) -> None:
    handler = Recorder("stopper")
    register_handler(handler.name, lambda argument: handler)
    for n in range(30):
        store.sync.enqueue("stopper", "Job", n, "UPDATE", {})
    worker = Worker(store, Router({"*": handler.name}),
                    WorkerConfig(batch=1, max_events=10, idle_max=0.01))
    worker.run()
    counts = store.sync.status().counts
    assert len(handler.calls) == 10
    assert counts == {"PENDING": 20, "PROCESSING": 0, "COMPLETED": 10, "FAILED": 0}


def test_lease_bookkeeping_relaxes_durability_for_itself_only(store) -> None:
    """Claims and completions commit without waiting for the disk; the
    connection is durable again right after, for the application's writes."""
    before = store.backend.settings()
    durable = {key: before[key] for key in ("synchronous", "synchronous_commit")
               if key in before}
    store.sync.enqueue("search", "Job", 1, "UPDATE", {})
    with store.backend.outbox_bookkeeping():
        assert [e.entity_id for e in store.sync.claim("w", 5, 30.0)] == ["1"]
    after = store.backend.settings()
    assert {key: after[key] for key in durable} == durable
    assert durable in ({"synchronous": "full"}, {"synchronous_commit": "on"})
    assert store.sync.status().counts["PROCESSING"] == 1
