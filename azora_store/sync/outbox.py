"""The transactional outbox: what callers and workers do with events.

``enqueue`` runs on the caller's connection, so inside ``store.atomic()`` the
domain change and its event commit together or not at all. Workers use the
claim / complete / fail / release / renew / rescue operations; operators use
``status``, ``retry_failed`` and ``prune``. Every status change is counted by
database triggers in the same transaction, so ``status()`` is exact and reads
a handful of counter rows, never the outbox itself.

One job, so one module above 450 lines: the operations on the outbox table,
which share its status and lease invariants (the worker loop is ``worker``,
its SQL ``statements``).
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import cached_property
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from ..errors import DatabaseBusy, ValidationError
from ..models.sync import SyncOperation, SyncStatus
from ..replicas import read_path
from ..support import jsonutil
from ..support.clock import utcnow
from .deadletters import DEFAULT_LIMIT as DEFAULT_FAILED_LIMIT
from .deadletters import DeadLetters, FailedPage
from .statements import OutboxStatements
from .throughput import Throughput

if TYPE_CHECKING:
    from ..store import Store

DEFAULT_MAX_ATTEMPTS = 3
FOLD_WHEN_READING = 500  # unfolded delta rows that make status() fold afterwards
STATUSES = tuple(status.value for status in SyncStatus)
_NONE_COUNTED = dict.fromkeys(STATUSES, 0)  # copied: 5x faster than fromkeys
LIMITS = {"service": 64, "entity_type": 64, "entity_id": 64, "ordering_key": 200,
          "dedup_key": 200}


class Event:
    """One outbox event as a worker sees it. ``id`` is its stable identity;
    ``attempts`` includes the delivery in progress. ``payload`` and
    ``created_at`` are decoded on first use (most handlers never read both, and
    decoding them for every claimed row was a fifth of a worker's time)."""

    __slots__ = ("_created_at", "_payload", "_read_datetime", "_read_json", "attempts",
                 "entity_id", "entity_type", "id", "max_attempts", "operation",
                 "ordering_key", "service", "status")

    def __init__(self, id: int, service: str, entity_type: str, entity_id: str,
                 operation: str, payload: Any, attempts: int, max_attempts: int,
                 ordering_key: str, created_at: Any, status: str = SyncStatus.PENDING,
                 read_json: Callable[[Any], Any] | None = None,
                 read_datetime: Callable[[Any], Any] | None = None):
        self.id, self.service, self.entity_type = id, service, entity_type
        self.entity_id, self.operation, self.attempts = entity_id, operation, attempts
        self.max_attempts, self.ordering_key, self.status = max_attempts, ordering_key, status
        self._payload, self._created_at = payload, created_at
        self._read_json, self._read_datetime = read_json, read_datetime

    @property
    def payload(self) -> Any:
        if self._read_json is not None:
            self._payload, self._read_json = self._read_json(self._payload), None
        return self._payload

    @property
    def created_at(self) -> datetime:
        if self._read_datetime is not None:
            self._created_at, self._read_datetime = self._read_datetime(self._created_at), None
        return self._created_at

    def payload_json(self) -> str:
        """The payload as JSON text, without decoding it when it is still the
        database's text (brokers forward it as is)."""
        if self._read_json is not None and isinstance(self._payload, str):
            return self._payload
        return jsonutil.dumps(self.payload)

    def raw_created_at(self) -> Any:
        """``created_at`` as the database returned it (a datetime, or SQLite's
        ISO text), without parsing it."""
        return self._created_at

    def to_json(self) -> dict[str, Any]:
        return {"id": self.id, "service": self.service, "entity_type": self.entity_type,
                "entity_id": self.entity_id, "operation": self.operation,
                "payload": self.payload, "attempts": self.attempts,
                "max_attempts": self.max_attempts, "ordering_key": self.ordering_key,
                "created_at": self.created_at.isoformat(), "status": self.status}

    def __repr__(self) -> str:
        return f"<Event {self.id} {self.service} {self.ordering_key} {self.status}>"


@dataclass(frozen=True)
class SyncStatusReport:
    """Read-only: reports made from the same counter rows share their mappings."""
    counts: Mapping[str, int]
    services: Mapping[str, Mapping[str, int]]
    oldest_pending_at: datetime | None
    measured_at: datetime = field(default_factory=utcnow)

    @property
    def oldest_pending_age(self) -> float | None:
        """Seconds since the oldest pending event was created."""
        if self.oldest_pending_at is None:
            return None
        return max(0.0, (self.measured_at - self.oldest_pending_at).total_seconds())

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    def to_json(self) -> dict[str, Any]:
        return {"counts": dict(self.counts),
                "services": {name: dict(counts) for name, counts in self.services.items()},
                "total": self.total,
                "oldest_pending_at": self.oldest_pending_at.isoformat()
                if self.oldest_pending_at else None,
                "oldest_pending_age_seconds": self.oldest_pending_age}


def backoff_delay(attempts: int, base: float, cap: float,
                  rand: Callable[[], float] = random.random) -> float:
    """Exponential backoff with "equal jitter": a delay in
    [base·2^(n-1)/2, base·2^(n-1)], capped. Consecutive ranges do not overlap,
    so every retry waits longer than the one before."""
    ceiling = min(cap, base * (2 ** max(attempts - 1, 0)))
    return ceiling / 2 + rand() * ceiling / 2


class Outbox:
    def __init__(self, store: Store):
        self.store = store
        self.backend = store.backend
        self.sql = OutboxStatements(store.backend)
        # Whether the last batch saw any blocked event. When none was, completing
        # skips the unblock statement; a successor blocked meanwhile by another
        # worker is unblocked by the next sweep (at most a second later).
        self._blocked_seen = True
        # The counter rows ``status`` read last and what they tallied to (one
        # tuple: threads swap it whole).
        self._last_status: tuple[list[tuple] | None, Any] = (None, None)

    # -- producing --------------------------------------------------------------

    def enqueue(self, service: str, entity_type: str, entity_id: Any,
                operation: SyncOperation | str, payload: Any = None, *,
                ordering_key: str | None = None, dedup_key: str | None = None,
                max_attempts: int = DEFAULT_MAX_ATTEMPTS, delay: float = 0.0) -> Event:
        """Queue one event in the caller's transaction (or on its own if there is
        none). A ``dedup_key`` seen before returns the existing event instead."""
        e = self._validated(service, entity_type, entity_id, operation, payload,
                            ordering_key=ordering_key, dedup_key=dedup_key,
                            max_attempts=max_attempts, delay=delay)
        now = utcnow()
        when = self.sql.when
        rows = self.sql.rows(self.sql.enqueue_sql, (
            e["service"], e["entity_type"], e["entity_id"], e["operation"], e["payload_json"],
            e["ordering_key"], e["dedup_key"], e["max_attempts"],
            when(now + timedelta(seconds=delay)), when(now), when(now)))
        if not rows:  # the dedup key exists: return that event
            return self._event(self.sql.rows(self.sql.by_dedup_sql, (dedup_key,))[0])
        return Event(rows[0][0], e["service"], e["entity_type"], e["entity_id"],
                     e["operation"], payload if payload is not None else {}, 0, max_attempts,
                     e["ordering_key"], now)

    @staticmethod
    def _validated(service: str, entity_type: str, entity_id: Any,
                   operation: SyncOperation | str, payload: Any = None, *,
                   ordering_key: str | None = None, dedup_key: str | None = None,
                   max_attempts: int = DEFAULT_MAX_ATTEMPTS, delay: float = 0.0
                   ) -> dict[str, Any]:
        """The columns of one event, or ValidationError naming the bad field."""
        entity_id = str(entity_id)
        values = {"service": service, "entity_type": entity_type, "entity_id": entity_id,
                  "ordering_key": ordering_key or f"{entity_type}:{entity_id}",
                  "dedup_key": dedup_key}
        _check_text(values)
        try:
            values["operation"] = SyncOperation(operation).value
        except ValueError:
            raise ValidationError(
                f"operation must be one of {', '.join(SyncOperation)}, got {operation!r}",
                field="operation", rule="enum") from None
        if not isinstance(max_attempts, int) or isinstance(max_attempts, bool) or \
                max_attempts < 1:
            raise ValidationError("max_attempts must be a whole number of at least 1",
                                  field="max_attempts", rule="min")
        if not isinstance(delay, (int, float)) or delay < 0:
            raise ValidationError("delay must be a number of seconds, zero or more",
                                  field="delay", rule="min")
        try:
            values["payload_json"] = jsonutil.dumps({} if payload is None else payload)
        except (TypeError, ValueError) as exc:
            raise ValidationError(f"payload is not JSON-serialisable: {exc}", field="payload",
                                  rule="type") from None
        values.update(max_attempts=max_attempts, delay=delay)
        return values

    def enqueue_many(self, events: Iterable[dict[str, Any]], chunk: int = 500) -> int:
        """Queue many events with one multi-row INSERT per ``chunk`` (each dict takes
        the keyword arguments of ``enqueue``). Returns how many were queued; events
        whose dedup key already exists are skipped."""
        p = self.store.db.param
        row_sql = f"({', '.join([p] * 11)}, 'PENDING', {', '.join(['false', '0'])})"
        queued, rows = 0, []

        def flush() -> int:
            if not rows:
                return 0
            sql = (self.sql.enqueue_many_prefix + ", ".join([row_sql] * (len(rows) // 11))
                   + self.sql.enqueue_many_suffix)
            count = len(self.sql.rows(sql, rows))
            rows.clear()
            return count

        when = self.sql.when
        now = utcnow()
        for spec in events:
            event = self._validated(**spec)
            rows.extend((event["service"], event["entity_type"], event["entity_id"],
                         event["operation"], event["payload_json"], event["ordering_key"],
                         event["dedup_key"], event["max_attempts"],
                         when(now + timedelta(seconds=event["delay"])), when(now), when(now)))
            if len(rows) >= chunk * 11:
                queued += flush()
        return queued + flush()

    def sync_entity(self, instance: Any, services: Iterable[str],
                    operation: SyncOperation | str = SyncOperation.SYNC) -> list[Event]:
        """Queue a full snapshot of a model instance to each service."""
        from playhouse.shortcuts import model_to_dict

        payload = model_to_dict(instance, recurse=False)
        entity_type = type(instance).__name__
        return [self.enqueue(service, entity_type, instance.get_id(), operation, payload)
                for service in services]

    # -- consuming (used by workers) -----------------------------------------------

    def claim(self, owner: str, batch: int, lease: float,
              services: Sequence[str] | None = None) -> list[Event]:
        """Take up to ``batch`` ready events whose key has no earlier unfinished
        event, leased to ``owner`` for ``lease`` seconds."""
        now = utcnow()
        at = self.sql.when(now)
        until = self.sql.when(now + timedelta(seconds=lease))
        if services:
            params = (at, self.sql.ids(list(services)), batch, owner, until, at)
            sql = self.sql.claim_services_sql
        else:
            params = (at, batch, owner, until, at)
            sql = self.sql.claim_sql
        return self._taken(self.sql.fast_rows(sql, params), SyncStatus.PROCESSING)

    # In-transaction delivery: call these inside one ``store.atomic()``.

    def any_ready(self) -> bool:
        """Cheap read-only probe: is anything claimable now? (Idle workers use it
        before taking a write lock.)"""
        return bool(self.sql.rows(self.sql.any_ready_sql, (self.sql.when(utcnow()),)))

    def take(self, batch: int, services: Sequence[str] | None = None) -> list[Event]:
        """Mark up to ``batch`` ready heads COMPLETED (counting the attempt) and
        return them, locked until the transaction ends: deliver them in the same
        transaction and ``untake`` any that fail. Candidates waiting for an
        earlier event of their key are marked blocked instead."""
        now = self.sql.when(utcnow())
        if services:
            params = (now, self.sql.ids(list(services)), batch, now, now)
            sql = self.sql.take_services_sql
        else:
            params = (now, batch, now, now)
            sql = self.sql.take_sql
        return self._taken(self.sql.fast_rows(sql, params), SyncStatus.COMPLETED)

    def _taken(self, rows: list[tuple], status: str) -> list[Event]:
        """Events a claim or take moved to ``status``. Rows it returned still
        PENDING are the ones it just blocked (the statement's own "any blocked?"
        subquery cannot see those)."""
        events = [self._event(row[:-1]) for row in rows]
        self._blocked_seen = any(row[-1] for row in rows) or any(
            event.status == SyncStatus.PENDING for event in events)
        return [event for event in events if event.status == status]

    def untake(self, event: Event, error: str, delay: float) -> str | None:
        """A taken event's delivery failed: retry after ``delay`` or dead-letter."""
        now = utcnow()
        rows = self.sql.rows(self.sql.untake_sql, (
            self.sql.when(now + timedelta(seconds=delay)), error[:4000], self.sql.when(now),
            event.id))
        return rows[0][0] if rows else None

    def lease_taken(self, owner: str, ids: Sequence[int], lease: float) -> None:
        """Turn taken events into leased PROCESSING ones (delivered after commit)."""
        if ids:
            now = utcnow()
            self.sql.run(self.sql.lease_taken_sql, (
                owner, self.sql.when(now + timedelta(seconds=lease)), self.sql.when(now),
                self.sql.ids(ids)))

    def taken_done(self, ids: Sequence[int], keys: Sequence[str]) -> None:
        """After a taken batch: unblock the next event of each completed key."""
        self._unblock_next(self.sql.when(utcnow()), list(zip(ids, keys, strict=True)))

    def owned(self, owner: str, ids: Sequence[int]) -> set[int]:
        """Which of ``ids`` ``owner`` still leases; locks them until commit."""
        if not ids:
            return set()
        return {row[0] for row in self.sql.rows(self.sql.owned_sql, (owner, self.sql.ids(ids)))}

    # Leased delivery: each call is its own short transaction.

    def complete(self, owner: str, ids: Sequence[int]) -> list[int]:
        """Mark events done (only those ``owner`` still holds); returns their ids.
        Then unblock the next event of each key, if a claim had blocked it."""
        if not ids:
            return []
        now = self.sql.when(utcnow())
        if len(ids) == 1:
            done = self.sql.fast_rows(self.sql.complete_one_sql, (now, now, owner, ids[0]))
        else:
            done = self.sql.fast_rows(self.sql.complete_sql, (now, now, owner, self.sql.ids(ids)))
        self._unblock_next(now, done)
        return [event_id for event_id, _ in done]

    def _unblock_next(self, now: Any, done: Sequence[tuple[int, str]]) -> None:
        if done and self._blocked_seen:
            keys = sorted({key for _, key in done})
            self.sql.run(self.sql.unblock_sql, (now, self.sql.ids(keys)))

    def fail(self, owner: str, event: Event, error: str, delay: float) -> str | None:
        """Record a failed delivery: back to PENDING after ``delay`` seconds, or
        FAILED (dead letter) once ``max_attempts`` is reached. Returns the status."""
        now = utcnow()
        rows = self.sql.rows(self.sql.fail_sql, (
            self.sql.when(now + timedelta(seconds=delay)), error[:4000], self.sql.when(now),
            event.id, owner))
        return rows[0][0] if rows else None

    def release(self, owner: str, ids: Sequence[int], delay: float = 0.0,
                error: str | None = None) -> int:
        """Give back claimed events that were not attempted (graceful stop), or
        not delivered because the sink is down: no attempt is spent, and they are
        claimable again after ``delay`` seconds (``error`` records why)."""
        if not ids:
            return 0
        now = utcnow()
        when = self.sql.when
        at = when(now + timedelta(seconds=delay))
        if error is None:
            return self.sql.run(self.sql.release_sql, (at, when(now), owner, self.sql.ids(ids)))
        return self.sql.run(self.sql.defer_sql, (at, error[:4000], when(now), owner,
                                                 self.sql.ids(ids)))

    def renew(self, owner: str, ids: Sequence[int], lease: float) -> set[int]:
        """Extend the lease of events ``owner`` still holds; returns their ids.
        Inside a transaction this also locks them against rescue until commit."""
        if not ids:
            return set()
        now = utcnow()
        return {row[0] for row in self.sql.rows(self.sql.renew_sql, (
            self.sql.when(now + timedelta(seconds=lease)), self.sql.when(now), owner,
            self.sql.ids(ids)))}

    def consume(self, consumer: str, ids: Sequence[int]) -> set[int]:
        """Record that ``consumer`` handled these events; returns the ids it had not
        handled before (run this in the same transaction as the effect)."""
        if not ids:
            return set()
        rows = self.sql.rows(self.sql.consume_sql, (consumer, self.sql.when(utcnow()),
                                                    self.sql.ids(ids)))
        return {row[0] for row in rows}

    def consume_from(self, consumer: str, source: str, ids: Sequence[int]) -> set[int]:
        """``consume`` for events of another database (``source``, its identity):
        returns the ids ``consumer`` had not applied from that source before."""
        if not ids:
            return set()
        rows = self.sql.rows(self.sql.consume_from_sql, (
            consumer, source, self.sql.when(utcnow()), self.sql.ids(ids)))
        return {row[0] for row in rows}

    def rescue(self, limit: int = 1000) -> list[tuple[int, str]]:
        """Events whose lease expired (their worker died or hung) become claimable
        again, or FAILED if that was their last attempt."""
        now = self.sql.when(utcnow())
        return [(row[0], row[1]) for row in
                self.sql.rows(self.sql.rescue_sql, (now, limit, now, now))]

    def sweep_blocked(self, limit: int = 1000) -> int:
        """Clear ``blocked`` hints that a race left on events that are now heads."""
        return self.sql.run(self.sql.sweep_sql, (self.sql.when(utcnow()), limit))

    # -- operating ---------------------------------------------------------------

    @read_path
    def status(self) -> SyncStatusReport:
        """Exact counts per status and service, and the oldest pending event's
        creation time, from the counter rows (O(1) in the outbox's size)."""
        rows = self.backend.fetch(self.sql.status_sql, ())
        seen, tally = self._last_status
        if rows != seen:  # the same counter rows as last time: the same tally
            tally = self._tally(rows)
            self._last_status = (rows, tally)
        counts, services, oldest, unfolded = tally
        if unfolded > FOLD_WHEN_READING:
            self.fold()  # keep the next read fast when no worker has folded lately
        return SyncStatusReport(counts, services, oldest)

    def _tally(self, rows: list[tuple]) -> tuple[Mapping[str, int],
                                                 Mapping[str, Mapping[str, int]],
                                                 datetime | None, int]:
        """Counts per status and per service, the oldest pending event's time
        and how many counter deltas are not folded yet, from the counter rows."""
        counts = _NONE_COUNTED.copy()
        services: dict[str, dict[str, int]] = {}
        oldest, unfolded = None, 0
        for service, status, value, kind, oldest_pending in rows:
            if kind == 2:
                oldest = oldest_pending
                continue
            unfolded += kind
            if value:
                counts[status] += value
                per_service = services.get(service)
                if per_service is None:
                    per_service = services[service] = _NONE_COUNTED.copy()
                per_service[status] += value
        return (MappingProxyType(counts),
                MappingProxyType({name: MappingProxyType(per_service)
                                  for name, per_service in sorted(services.items())}),
                self.backend.read_datetime(oldest), unfolded)

    def fold(self) -> int:
        """Fold pending counter deltas (where the backend keeps any). Best effort:
        a busy database just leaves them for the next fold."""
        try:
            return self.backend.fold_sync_counters()
        except DatabaseBusy:
            return 0

    def counted(self) -> dict[tuple[str, str], int]:
        """A real COUNT(*) per (service, status): for tests and audits only."""
        return {(service, status): count for service, status, count in
                self.sql.rows(self.sql.count_sql)}

    @cached_property
    def throughput(self) -> Throughput:
        """Completed events per minute, kept by workers (the dashboard's chart)."""
        return Throughput(self.store)

    @cached_property
    def dead_letters(self) -> DeadLetters:
        """FAILED events: keyset pages, id checks (``sync failed``)."""
        return DeadLetters(self.store)

    def failed(self, service: str | None = None, error: str | None = None,
               limit: int = DEFAULT_FAILED_LIMIT, before: int | None = None) -> FailedPage:
        """Dead letters newest first (``before``: the previous page's ``next_before``)."""
        return self.dead_letters.page(service, error, limit, before)

    def retry_failed(self, service: str | None = None, ids: Sequence[int] | None = None) -> int:
        """Move dead-lettered (FAILED) events back to PENDING with fresh attempts.
        Ids that are unknown or not FAILED raise NotFound naming them; nothing moves."""
        sql, now = self.sql.retry_sql, self.sql.when(utcnow())
        params: list[Any] = [now, now]
        if service is not None:
            sql += f" AND service = {self.store.db.param}"
            params.append(service)
        if ids is None:
            return self.sql.run(sql, params)
        sql += " AND " + self.backend.sql_in("id")
        params.append(self.sql.ids(list(ids)))
        with self.store.atomic():
            self.dead_letters.require_failed(list(ids))
            return self.sql.run(sql, params)

    def prune(self, older_than: timedelta, batch: int = 10_000,
              report: Callable[[int, int], None] | None = None) -> int:
        """Delete COMPLETED events finished more than ``older_than`` ago, oldest
        first, one short transaction per ``batch`` rows scanned. Counters follow
        (delete triggers). Returns how many were deleted."""
        cutoff = utcnow() - older_than
        read = self.backend.read_datetime
        last_id, deleted, scanned = 0, 0, 0
        while True:
            rows = self.sql.rows(self.sql.prune_scan_sql, (last_id, batch))
            if not rows:
                break
            last_id = rows[-1][0]
            scanned += len(rows)
            doomed = [row[0] for row in rows if row[1] == SyncStatus.COMPLETED
                      and row[2] is not None and read(row[2]) < cutoff]
            if doomed:
                with self.store.atomic():
                    deleted += self.sql.run(self.sql.delete_sql, (self.sql.ids(doomed),))
            if report is not None:
                report(scanned, deleted)
            if read(rows[-1][3]) >= cutoff:  # created after the cutoff: nothing older follows
                break
        return deleted

    # -- helpers -----------------------------------------------------------------

    def _event(self, row: Sequence[Any], attempt: int = 0) -> Event:
        """An Event from a row of EVENT_COLUMNS + status (``attempt`` = 1 when the
        row was read before the delivery in progress was counted)."""
        (event_id, service, entity_type, entity_id, operation, payload, attempts,
         max_attempts, ordering_key, created_at, status) = row
        return Event(event_id, service, entity_type, entity_id, operation, payload,
                     attempts + attempt, max_attempts, ordering_key, created_at, status,
                     self.backend.read_json, self.backend.read_datetime)


def _check_text(values: dict[str, Any]) -> None:
    for name, value in values.items():
        if value is None and name == "dedup_key":
            continue
        if not isinstance(value, str) or not value.strip():
            raise ValidationError(f"{name} must be a non-empty string", field=name,
                                  rule="not_blank")
        if len(value) > LIMITS[name]:
            raise ValidationError(f"{name} is longer than {LIMITS[name]} characters",
                                  field=name, rule="max_length")
