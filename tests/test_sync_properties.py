"""Property test: whatever happens to the outbox, the counters equal COUNT(*)."""

from __future__ import annotations

import time
from datetime import timedelta

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule, run_state_machine_as_test

from azora_store.store import Store

SERVICES = st.sampled_from(["search", "billing"])
KEYS = st.integers(min_value=0, max_value=3)


class OutboxMachine(RuleBasedStateMachine):
    store: Store  # set by the test before running

    def __init__(self) -> None:
        super().__init__()
        self.outbox = self.store.sync
        self.held: dict[int, object] = {}  # claimed event id -> Event (owner "prop")
        # Each example starts empty; deleting goes through the counter triggers too.
        self.store.db.execute_sql("DELETE FROM service_sync")

    @rule(service=SERVICES, key=KEYS, dedup=st.one_of(st.none(), st.sampled_from("abc")),
          in_transaction=st.booleans(), rollback=st.booleans())
    def enqueue(self, service, key, dedup, in_transaction, rollback) -> None:
        if not in_transaction:
            self.outbox.enqueue(service, "Job", key, "UPDATE", {"k": key}, dedup_key=dedup)
            return
        try:
            with self.store.atomic():
                self.outbox.enqueue(service, "Job", key, "UPDATE", {"k": key}, dedup_key=dedup)
                if rollback:
                    raise LookupError("rolled back on purpose")
        except LookupError:
            pass

    @rule(batch=st.integers(min_value=1, max_value=5), lease=st.sampled_from([0.0, 60.0]))
    def claim(self, batch, lease) -> None:
        for event in self.outbox.claim("prop", batch, lease):
            self.held[event.id] = event

    @rule(batch=st.integers(min_value=1, max_value=5), data=st.data())
    def take_in_transaction(self, batch, data) -> None:
        """In-transaction delivery: take, put some back, lease some, maybe roll back."""
        rollback = data.draw(st.booleans())
        try:
            with self.store.atomic():
                taken = self.outbox.take(batch)
                fates = [data.draw(st.sampled_from(["done", "failed", "leased"]))
                         for _ in taken]
                for event, fate in zip(taken, fates, strict=True):
                    if fate == "failed":
                        self.outbox.untake(event, "boom", delay=0.0)
                leased = [e for e, fate in zip(taken, fates, strict=True) if fate == "leased"]
                self.outbox.lease_taken("prop", [e.id for e in leased], 60.0)
                done = [e for e, fate in zip(taken, fates, strict=True) if fate == "done"]
                self.outbox.taken_done([e.id for e in done], [e.ordering_key for e in done])
                if rollback:
                    raise LookupError("the worker died before commit")
        except LookupError:
            return
        for event in leased:
            self.held[event.id] = event

    @rule(data=st.data())
    def complete(self, data) -> None:
        chosen = data.draw(st.lists(st.sampled_from(sorted(self.held)), unique=True)
                           if self.held else st.just([]))
        self.outbox.complete("prop", chosen)
        for event_id in chosen:
            self.held.pop(event_id)

    @rule(data=st.data())
    def fail(self, data) -> None:
        if self.held:
            event_id = data.draw(st.sampled_from(sorted(self.held)))
            self.outbox.fail("prop", self.held.pop(event_id), "boom", delay=0.0)

    @rule()
    def release(self) -> None:
        self.outbox.release("prop", sorted(self.held))
        self.held.clear()

    @rule()
    def rescue(self) -> None:
        time.sleep(0.002)  # let zero-length leases expire
        for event_id, _ in self.outbox.rescue():
            self.held.pop(event_id, None)

    @rule(service=st.one_of(st.none(), SERVICES))
    def retry_failed(self, service) -> None:
        self.outbox.retry_failed(service=service)

    @rule()
    def prune(self) -> None:
        self.outbox.prune(timedelta(0))

    @rule()
    def sweep(self) -> None:
        self.outbox.sweep_blocked()

    @invariant()
    def counters_equal_count(self) -> None:
        counted = self.outbox.counted()
        report = self.outbox.status()
        for service, per_status in report.services.items():
            for status, count in per_status.items():
                assert counted.get((service, status), 0) == count, (service, status)
        assert sum(counted.values()) == report.total
        (oldest,) = self.outbox.sql.rows(
            "SELECT MIN(created_at) FROM service_sync WHERE status = 'PENDING'")[0]
        assert self.store.backend.read_datetime(oldest) == report.oldest_pending_at


def test_counters_always_equal_count(store) -> None:
    OutboxMachine.store = store
    run_state_machine_as_test(OutboxMachine, settings=settings(
        max_examples=25, stateful_step_count=25, deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much]))
