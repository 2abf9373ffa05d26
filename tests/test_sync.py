"""The transactional outbox on both backends (in-process workers).

Crash safety with real processes and kill -9 is in test_sync_processes.py.
"""

from __future__ import annotations

import json
import threading
import time
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from azora_store.errors import ValidationError
from azora_store.models import EventLog, User
from azora_store.support.clock import utcnow
from azora_store.sync import Router, Worker, WorkerConfig, backoff_delay, register_handler
from tests.helpers import sql

FAST = dict(backoff_base=0.05, idle_min=0.001, idle_max=0.01, lease=5.0)


class Recorder:
    """A handler that records calls and fails on request."""

    transactional = False

    def __init__(self, name: str = "recorder", fail_when=lambda event: False,
                 sleep: float = 0.0):
        self.name = name
        self.calls: list[tuple[int, str, float]] = []
        self.fail_when = fail_when
        self.sleep = sleep

    def __call__(self, event, store) -> None:
        self.calls.append((event.id, event.ordering_key, time.monotonic()))
        if self.sleep:
            time.sleep(self.sleep)
        if self.fail_when(event):
            raise RuntimeError(f"refused {event.id}")


def worker_for(store, handler, **config) -> Worker:
    register_handler(handler.name, lambda argument: handler)
    return Worker(store, Router({"*": handler.name}), WorkerConfig(**{**FAST, **config}))


def drain(worker: Worker, until=lambda: False, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not worker.run_once():
            counts = worker.outbox.status().counts
            if until() or not (counts["PENDING"] or counts["PROCESSING"]):
                return
            time.sleep(0.01)
    raise AssertionError("the outbox did not drain in time")


def assert_counters_exact(store) -> None:
    counted = store.sync.counted()
    report = store.sync.status()
    for service, per_status in report.services.items():
        for status, count in per_status.items():
            assert counted.get((service, status), 0) == count, (service, status)
    assert sum(counted.values()) == report.total


# -- enqueue ------------------------------------------------------------------------


def test_event_commits_with_the_domain_change_or_not_at_all(store) -> None:
    with store.atomic():
        user = User.create(email="a@example.org", full_name="A")
        store.sync.enqueue("search", "User", user.id, "CREATE", {"email": user.email})
    with pytest.raises(RuntimeError), store.atomic():
        ghost = User.create(email="b@example.org", full_name="B")
        store.sync.enqueue("search", "User", ghost.id, "CREATE", {})
        raise RuntimeError("the caller changes its mind")
    assert User.select().count() == 1
    assert store.sync.status().counts["PENDING"] == 1
    assert sql(store, "SELECT entity_id FROM service_sync") == [(str(user.id),)]


def test_status_reports_are_read_only_and_follow_every_change(store) -> None:
    """A report made from unchanged counter rows reuses their tally, which no
    caller can change; any change of the counters makes a new one."""
    first = store.sync.status()
    with pytest.raises(TypeError):
        first.counts["PENDING"] = 5  # type: ignore[index]
    assert store.sync.status().counts == first.counts
    store.sync.enqueue("search", "Job", 1, "CREATE", {"id": 1})
    second = store.sync.status()
    assert second.counts["PENDING"] == first.counts["PENDING"] + 1
    assert second.services["search"]["PENDING"] == 1
    assert second.to_json()["counts"] == dict(second.counts)
    assert json.dumps(second.to_json())  # plain dicts, not read-only views
    assert_counters_exact(store)


def test_dedup_key_returns_the_existing_event(store) -> None:
    first = store.sync.enqueue("billing", "Escrow", 7, "UPDATE", {"n": 1}, dedup_key="esc-7-v1")
    with store.atomic():
        again = store.sync.enqueue("billing", "Escrow", 7, "UPDATE", {"n": 2},
                                   dedup_key="esc-7-v1")
    assert again.id == first.id and again.payload == {"n": 1}
    other = store.sync.enqueue("billing", "Escrow", 7, "UPDATE", {"n": 3}, dedup_key="esc-7-v2")
    assert other.id != first.id
    assert store.sync.status().counts["PENDING"] == 2


@pytest.mark.parametrize("kwargs, field", [
    (dict(service=""), "service"),
    (dict(operation="UPSERT"), "operation"),
    (dict(payload={"when": object()}), "payload"),
    (dict(max_attempts=0), "max_attempts"),
    (dict(ordering_key="k" * 201), "ordering_key"),
])
def test_bad_enqueue_is_refused_and_writes_nothing(store, kwargs, field) -> None:
    args = dict(service="search", entity_type="Job", entity_id=1, operation="CREATE",
                payload={})
    args.update(kwargs)
    with pytest.raises(ValidationError) as raised:
        store.sync.enqueue(**args)
    assert raised.value.field == field
    assert store.sync.status().total == 0


# -- delivery, retries, dead letter -------------------------------------------------------


def test_eventlog_handler_writes_each_event_once(store) -> None:
    ids = [store.sync.enqueue("eventlog", "Job", n, "CREATE", {"n": n}).id for n in range(250)]
    worker = Worker(store, Router({}), WorkerConfig(**FAST, batch=100))
    drain(worker)
    assert sorted(r.event_id for r in EventLog.select()) == ids
    assert store.sync.status().counts == {"PENDING": 0, "PROCESSING": 0, "COMPLETED": 250,
                                          "FAILED": 0}
    assert_counters_exact(store)


def test_always_failing_event_is_dead_after_three_attempts_with_growing_delays(store) -> None:
    handler = Recorder("always-fails", fail_when=lambda event: True)
    event = store.sync.enqueue("always-fails", "Job", 1, "UPDATE", {})
    worker = worker_for(store, handler)
    drain(worker, until=lambda: store.sync.status().counts["FAILED"] == 1)
    times = [at for event_id, _, at in handler.calls if event_id == event.id]
    assert len(times) == 3
    # Each retry waits at least the low end of its jitter range (base 0.05 s:
    # [0.025, 0.05] then [0.05, 0.1]). That the second wait is the longer one
    # is a property of the delays (test_backoff_grows_and_is_capped): on the
    # clock, the ranges touch at 0.05 s and polling adds up to ~10 ms to each
    # gap, so comparing the two gaps failed once in CI (0.0570 then 0.0567).
    first_gap, second_gap = times[1] - times[0], times[2] - times[1]
    assert first_gap >= 0.025 and second_gap >= 0.05, (first_gap, second_gap)
    row = sql(store, "SELECT status, attempts, last_error FROM service_sync WHERE id = ?",
              event.id)[0]
    assert row[:2] == ("FAILED", 3) and "refused" in row[2]

    assert store.sync.retry_failed(service="always-fails") == 1
    handler.fail_when = lambda event: False
    drain(worker)
    assert sql(store, "SELECT status, attempts FROM service_sync WHERE id = ?",
               event.id) == [("COMPLETED", 1)]
    assert_counters_exact(store)


def test_backoff_ranges_grow_and_are_capped() -> None:
    lows = [backoff_delay(n, 1.0, 60.0, rand=lambda: 0.0) for n in range(1, 10)]
    highs = [backoff_delay(n, 1.0, 60.0, rand=lambda: 1.0) for n in range(1, 10)]
    assert lows[:4] == [0.5, 1.0, 2.0, 4.0] and highs[:4] == [1.0, 2.0, 4.0, 8.0]
    assert all(high <= low_next for high, low_next in zip(highs[:5], lows[1:6], strict=False))
    assert max(highs) == 60.0


# -- ordering -----------------------------------------------------------------------


def test_events_of_one_key_are_delivered_in_order_while_retries_happen(store) -> None:
    flaky = {"remaining": 2}

    def fail_first_two(event) -> bool:
        if event.ordering_key == "Job:1" and flaky["remaining"]:
            flaky["remaining"] -= 1
            return True
        return False

    handler = Recorder("ordered", fail_when=fail_first_two)
    expected = {}
    for n in range(30):
        key = n % 3
        event = store.sync.enqueue("ordered", "Job", key, "UPDATE", {"n": n})
        expected.setdefault(f"Job:{key}", []).append(event.id)
    drain(worker_for(store, handler, batch=7))
    delivered: dict[str, list[int]] = {}
    for event_id, key, _ in handler.calls:
        if not delivered.get(key) or delivered[key][-1] != event_id:
            delivered.setdefault(key, []).append(event_id)
    assert delivered == expected  # in id order per key, retries included
    assert_counters_exact(store)


def test_a_stuck_key_does_not_block_other_keys(store) -> None:
    handler = Recorder("stuck", fail_when=lambda event: event.ordering_key == "Job:0")
    stuck = [store.sync.enqueue("stuck", "Job", 0, "UPDATE", {"n": n}).id for n in range(50)]
    flowing = [store.sync.enqueue("stuck", "Job", n, "UPDATE", {}).id for n in range(1, 101)]
    worker = worker_for(store, handler, batch=20)
    drain(worker, until=lambda: store.sync.status().counts["FAILED"] == 1)
    counts = store.sync.status().counts
    assert counts == {"PENDING": 49, "PROCESSING": 0, "COMPLETED": 100, "FAILED": 1}
    assert {event_id for event_id, key, _ in handler.calls if key == "Job:0"} == {stuck[0]}
    assert set(flowing) <= {event_id for event_id, _, _ in handler.calls}
    # The waiting events were marked once, so later claims skip them without probing.
    assert sql(store, "SELECT COUNT(*) FROM service_sync WHERE blocked = true") == [(49,)]

    handler.fail_when = lambda event: False
    store.sync.retry_failed()
    drain(worker)
    assert store.sync.status().counts["COMPLETED"] == 150
    delivered_stuck = [event_id for event_id, key, _ in handler.calls if key == "Job:0"]
    assert delivered_stuck[-50:] == stuck
    assert_counters_exact(store)


# -- leases -------------------------------------------------------------------------


@pytest.mark.slow
def test_a_slow_live_handler_keeps_its_lease(store) -> None:
    """Lease 1.5 s, handler 3 s: the heartbeat renews it, so a second worker never
    rescues the event into a duplicate run."""
    slow = Recorder("slow", sleep=3.0)
    event = store.sync.enqueue("slow", "Job", 1, "UPDATE", {})
    first = worker_for(store, slow, lease=1.5, housekeeping_every=0.2)
    other = Recorder("slow-other")
    rival = Worker(store, Router({"*": "slow-other"}),
                   WorkerConfig(**{**FAST, "lease": 1.5, "housekeeping_every": 0.2}))
    register_handler("slow-other", lambda argument: other)
    runner = threading.Thread(target=first.run_once)
    beats = threading.Thread(target=first._heartbeat, daemon=True)
    runner.start()
    beats.start()
    deadline = time.monotonic() + 3.5
    while time.monotonic() < deadline:
        rival._last_housekeeping = 0
        rival._housekeeping()
        rival.run_once()
        time.sleep(0.1)
    runner.join()
    first.stop()
    assert [call[0] for call in slow.calls] == [event.id] and other.calls == []
    assert rival.stats.rescued == 0
    assert store.sync.status().counts["COMPLETED"] == 1


def test_lease_renewals_never_report_a_completed_event_as_lost(store, caplog) -> None:
    """--batch 1 with a renewal every 2 ms: completions release leases while the
    heartbeat renews them. A lease completed between the heartbeat's copy of the
    ids and its renewal used to be reported as "lost" (with no duplicate)."""
    handler = Recorder("ghost")
    store.sync.enqueue_many({"service": "ghost", "entity_type": "Job", "entity_id": n,
                             "operation": "UPDATE"} for n in range(400))
    worker = worker_for(store, handler, batch=1, lease=30.0, heartbeat=0.002,
                        exit_when_idle=True)
    with caplog.at_level("WARNING", logger="azora_store.sync"):
        worker.run()
    assert len(handler.calls) == 400 == len({call[0] for call in handler.calls})
    assert [r.getMessage() for r in caplog.records if "lost" in r.getMessage()] == []
    assert worker.stats.lost_leases == 0


def test_completing_one_event_unblocks_the_next_of_its_key(store) -> None:
    """The one-id completion (a --batch 1 round) does what the list form does:
    only the holder completes, and the key's next event becomes claimable."""
    first, second = (store.sync.enqueue("single", "Job", 7, "UPDATE", {"n": n}).id
                     for n in range(2))
    assert [e.id for e in store.sync.claim("w1", 2, lease=30)] == [first]  # second: blocked
    assert store.sync.complete("w2", [first]) == []  # not w2's lease
    assert store.sync.complete("w1", [first]) == [first]
    assert [e.id for e in store.sync.claim("w1", 2, lease=30)] == [second]
    assert store.sync.complete("w1", [second]) == [second]
    assert sql(store, "SELECT status FROM service_sync ORDER BY id") == [
        ("COMPLETED",), ("COMPLETED",)]
    assert_counters_exact(store)


def test_an_expired_lease_is_rescued_and_delivered_again(store) -> None:
    event = store.sync.enqueue("eventlog", "Job", 1, "UPDATE", {})
    claimed = store.sync.claim("dead-worker", 10, lease=0.2)
    assert [e.id for e in claimed] == [event.id]
    time.sleep(0.3)
    assert store.sync.rescue() == [(event.id, "PENDING")]
    # The dead worker's late completion is refused: it no longer holds the lease.
    assert store.sync.complete("dead-worker", [event.id]) == []
    drain(Worker(store, Router({}), WorkerConfig(**FAST)))
    assert EventLog.select().count() == 1
    assert sql(store, "SELECT attempts, status FROM service_sync") == [(2, "COMPLETED")]
    assert_counters_exact(store)


def test_stop_finishes_the_event_in_hand_and_releases_the_rest(store) -> None:
    """Stop is asked while the third event is in hand (from the handler itself,
    so no timing decides it)."""

    class Stopping(Recorder):
        def __call__(self, event, store) -> None:
            super().__call__(event, store)
            if len(self.calls) == 3:
                worker.stop()

    handler = Stopping("graceful")
    for n in range(20):
        store.sync.enqueue("graceful", "Job", n, "UPDATE", {})
    worker = worker_for(store, handler, batch=20)
    worker.run_once()
    counts = store.sync.status().counts
    delivered = len(handler.calls)
    assert delivered == 3
    assert counts == {"PENDING": 20 - delivered, "PROCESSING": 0, "COMPLETED": delivered,
                      "FAILED": 0}
    # Released events did not spend an attempt.
    assert sql(store, "SELECT MAX(attempts) FROM service_sync WHERE status = 'PENDING'") == [(0,)]


# -- webhook ------------------------------------------------------------------------


class Hook(BaseHTTPRequestHandler):
    answers: list[int] = []
    seen: list[tuple[str, bytes]] = []

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        Hook.seen.append((self.headers["Idempotency-Key"], body))
        self.send_response(Hook.answers.pop(0) if Hook.answers else 204)
        self.end_headers()

    def log_message(self, *args) -> None:
        pass


def test_webhook_retries_until_a_2xx(store) -> None:
    server = ThreadingHTTPServer(("127.0.0.1", 0), Hook)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    Hook.answers, Hook.seen = [500, 503], []
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/events"
        event = store.sync.enqueue("crm", "User", 5, "CREATE", {"email": "x@example.org"})
        worker = Worker(store, Router.parse([f"crm=webhook:{url}"]), WorkerConfig(**FAST))
        drain(worker)
    finally:
        server.shutdown()
    assert [key for key, _ in Hook.seen] == [str(event.id)] * 3
    assert b'"email":"x@example.org"' in Hook.seen[-1][1]
    assert store.sync.status().counts["COMPLETED"] == 1


# -- services without a handler ---------------------------------------------------------


def unrouted_rows(store, service: str) -> list[tuple]:
    return sql(store, "SELECT id, status, attempts, blocked, available_at, lease_owner, "
                      "last_error, updated_at FROM service_sync WHERE service = ? ORDER BY id",
               service)


@pytest.mark.parametrize("leased", [False, True])
def test_a_service_without_a_handler_stays_pending_untouched(store, caplog, leased) -> None:
    routed = [store.sync.enqueue("eventlog", "Job", n, "CREATE", {}).id for n in range(5)]
    for n in range(3):
        store.sync.enqueue("billing", "Invoice", n, "CREATE", {}, max_attempts=1)
    before = unrouted_rows(store, "billing")
    worker = Worker(store, Router({}), WorkerConfig(**FAST, leased_only=leased,
                                                    housekeeping_every=0.0,
                                                    exit_when_idle=True))
    with caplog.at_level("WARNING", logger="azora_store.sync"):
        stats = worker.run()  # exits: nothing it can deliver is left
        store.sync.enqueue("crm", "Contact", 1, "CREATE", {})
        store.sync.enqueue("crm", "Contact", 2, "CREATE", {})
        worker = Worker(store, Router({}), WorkerConfig(**FAST, exit_when_idle=True))
        worker.run()
    assert (stats.claimed, stats.completed, stats.dead) == (5, 5, 0)
    assert sorted(row.event_id for row in EventLog.select()) == routed
    assert unrouted_rows(store, "billing") == before
    assert store.sync.status().services["billing"]["PENDING"] == 3
    assert store.sync.status().counts["FAILED"] == 0
    warnings = [r.getMessage() for r in caplog.records if r.levelname == "WARNING"]
    assert len([w for w in warnings if "'billing'" in w]) == 2, warnings  # once per worker
    assert len([w for w in warnings if "'crm'" in w]) == 1, warnings
    assert "--route billing=HANDLER" in warnings[0]


def test_a_service_seen_after_start_is_claimed_only_once_routed(store, caplog) -> None:
    worker = Worker(store, Router({}), WorkerConfig(**FAST, housekeeping_every=0.0))
    store.sync.enqueue("billing", "Invoice", 1, "CREATE", {}, max_attempts=1)
    event = store.sync.enqueue("eventlog", "Job", 1, "CREATE", {})
    with caplog.at_level("WARNING", logger="azora_store.sync"):
        for _ in range(3):
            worker._housekeeping()
            worker.run_once()
    assert [row.event_id for row in EventLog.select()] == [event.id]
    assert store.sync.status().services["billing"]["PENDING"] == 1
    assert len([r for r in caplog.records if "'billing'" in r.getMessage()]) == 1


def test_a_worker_asked_for_a_service_it_cannot_deliver_refuses_to_start(store) -> None:
    from azora_store.errors import ConfigurationError

    with pytest.raises(ConfigurationError, match="billing"):
        Worker(store, Router({}), WorkerConfig(services=("eventlog", "billing")))
    Worker(store, Router({"billing": "noop"}), WorkerConfig(services=("billing",)))


# -- prune --------------------------------------------------------------------------


def test_prune_deletes_old_completed_events_and_keeps_counters_exact(store) -> None:
    for n in range(30):
        store.sync.enqueue("eventlog", "Job", n, "CREATE", {})
    drain(Worker(store, Router({}), WorkerConfig(**FAST)))
    store.sync.enqueue("eventlog", "Job", 99, "CREATE", {})  # stays PENDING
    old = store.backend.datetime_param(utcnow() - timedelta(days=8))
    sql(store, "UPDATE service_sync SET created_at = ?, completed_at = ? WHERE id <= 20", old,
        old)

    assert store.sync.prune(timedelta(days=7), batch=7) == 20
    assert store.sync.status().counts == {"PENDING": 1, "PROCESSING": 0, "COMPLETED": 10,
                                          "FAILED": 0}
    assert_counters_exact(store)
    assert store.sync.prune(timedelta(days=7)) == 0
