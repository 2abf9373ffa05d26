"""What an operator does to the outbox, each action recorded as a security event.

Retry (chosen dead letters, or every one matching a filter), discard (delete
chosen dead letters, with a reason) and run now (a delayed PENDING event
becomes claimable at once). Each runs in one transaction with its audit
record (``security_events``, hash-chained), naming who asked (``Actor``), so
an action and its record commit together or not at all. Ids that are not in
the state the action needs are refused by name and nothing changes.

Also the operator's read views that are not pages of dead letters: keys
blocked behind an unfinished head, and delayed retries.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from ..errors import NotFound, ValidationError
from ..models.compliance import Severity
from ..support.clock import utcnow
from .deadletters import MAX_ID
from .statements import UNFINISHED

if TYPE_CHECKING:
    from ..store import Store

MAX_IDS = 500  # ids per action
MAX_REASON = 500


@dataclass(frozen=True)
class Actor:
    """Who asked: the API token (id and name) and where the request came from."""

    token_id: int | None = None
    token_name: str = "cli"
    ip: str | None = None
    user_agent: str | None = None
    via: str = "api"  # api | dashboard | cli

    def details(self) -> dict[str, Any]:
        return {"token_id": self.token_id, "token_name": self.token_name, "via": self.via}


@dataclass(frozen=True)
class BlockedKey:
    """An ordering key whose later events wait behind its unfinished head."""

    ordering_key: str
    waiting: int  # blocked events behind the head (at least)
    head_id: int | None
    head_status: str | None
    head_service: str | None
    head_attempts: int | None
    head_error: str | None

    def to_json(self) -> dict[str, Any]:
        return {"ordering_key": self.ordering_key, "waiting": self.waiting,
                "head": None if self.head_id is None else {
                    "id": self.head_id, "status": self.head_status,
                    "service": self.head_service, "attempts": self.head_attempts,
                    "last_error": self.head_error}}


@dataclass(frozen=True)
class DelayedEvent:
    """A PENDING event not claimable before ``available_at`` (a retry's backoff)."""

    id: int
    service: str
    entity_type: str
    entity_id: str
    attempts: int
    max_attempts: int
    available_at: datetime
    last_error: str | None

    def to_json(self) -> dict[str, Any]:
        return {"id": self.id, "service": self.service, "entity_type": self.entity_type,
                "entity_id": self.entity_id, "attempts": self.attempts,
                "max_attempts": self.max_attempts,
                "available_at": self.available_at.isoformat(), "last_error": self.last_error}


def check_ids(ids: Any) -> list[int]:
    if not isinstance(ids, (list, tuple)) or not ids:
        raise ValidationError("ids must be a non-empty list of event ids", field="ids",
                              rule="required")
    if len(ids) > MAX_IDS:
        raise ValidationError(f"ids must hold at most {MAX_IDS} ids", field="ids",
                              rule="max_items")
    bad = [i for i in ids if isinstance(i, bool) or not isinstance(i, int)
           or not 1 <= i <= MAX_ID]
    if bad:
        raise ValidationError("ids must be event ids (positive whole numbers)", field="ids",
                              rule="range")
    return sorted(set(ids))


class Operations:
    def __init__(self, store: Store):
        self.store = store
        self.backend = store.backend
        self.outbox = store.sync
        self.p = store.db.param

    # -- actions ------------------------------------------------------------------------

    def retry(self, ids: Sequence[int], actor: Actor) -> int:
        """Queue these dead letters again (fresh attempts)."""
        ids = check_ids(ids)
        with self.store.atomic():
            count = self.outbox.retry_failed(ids=ids)
            self._record("sync.retry", Severity.INFO, actor, {"ids": ids, "count": count})
        return count

    def retry_matching(self, service: str | None, error: str | None, actor: Actor) -> int:
        """Queue again every dead letter matching the filter (all of them if none)."""
        clauses, params = self.outbox.dead_letters.filters(service, error)
        now = self.outbox.sql.when(utcnow())
        sql = self.outbox.sql.retry_sql + "".join(f" AND {clause}" for clause in clauses)
        with self.store.atomic():
            count = self.outbox.sql.run(sql, [now, now, *params])
            self._record("sync.retry_matching", Severity.LOW if count else Severity.INFO,
                         actor, {"service": service, "error": error, "count": count})
        return count

    def discard(self, ids: Sequence[int], reason: str, actor: Actor) -> int:
        """Delete these dead letters for good (never delivered). The record keeps
        what each one was and why it was dropped; the next event of each key may
        then be delivered."""
        ids = check_ids(ids)
        if not isinstance(reason, str) or not reason.strip():
            raise ValidationError("reason must say why the events are discarded",
                                  field="reason", rule="not_blank")
        if len(reason) > MAX_REASON or "\x00" in reason:
            raise ValidationError(f"reason must be at most {MAX_REASON} characters, no NUL",
                                  field="reason", rule="max_length")
        sql = self.outbox.sql
        with self.store.atomic():
            self.outbox.dead_letters.require_failed(ids)
            rows = self.backend.fetch(
                "SELECT id, service, entity_type, entity_id, ordering_key, last_error "
                "FROM service_sync WHERE status = 'FAILED' AND "
                f"{self.backend.sql_in('id')}" + self.backend.row_lock_wait(),
                [sql.ids(ids)])
            count = sql.run("DELETE FROM service_sync WHERE status = 'FAILED' AND "
                            + self.backend.sql_in("id"), (sql.ids(ids),))
            keys = sorted({row[4] for row in rows})
            sql.run(sql.unblock_sql, (sql.when(utcnow()), sql.ids(keys)))
            events = [{"id": r[0], "service": r[1], "entity": f"{r[2]}:{r[3]}",
                       "ordering_key": r[4], "last_error": (r[5] or "")[:200]} for r in rows]
            self._record("sync.discard", Severity.MEDIUM, actor,
                         {"reason": reason.strip(), "count": count, "events": events})
        return count

    def run_now(self, ids: Sequence[int], actor: Actor) -> int:
        """Make delayed PENDING events claimable now (skip the rest of a backoff)."""
        ids = check_ids(ids)
        now = self.outbox.sql.when(utcnow())
        sql = self.outbox.sql
        with self.store.atomic():
            found = dict(self.backend.fetch(
                f"SELECT id, status FROM service_sync WHERE {self.backend.sql_in('id')}",
                [sql.ids(ids)]))
            unknown = [i for i in ids if i not in found]
            if unknown:
                raise NotFound(f"unknown event id(s): {', '.join(map(str, unknown))}",
                               field="ids", rule="exists")
            other = [f"{i} ({found[i]})" for i in ids if found[i] != "PENDING"]
            if other:
                raise NotFound(f"event(s) not PENDING: {', '.join(other)}", field="ids",
                               rule="pending")
            count = sql.run(f"UPDATE service_sync SET available_at = {self.p}, "
                            f"updated_at = {self.p} WHERE status = 'PENDING' AND "
                            f"available_at > {self.p} AND " + self.backend.sql_in("id"),
                            (now, now, now, sql.ids(ids)))
            self._record("sync.run_now", Severity.INFO, actor, {"ids": ids, "count": count})
        return count

    def _record(self, event_type: str, severity: Severity, actor: Actor,
                details: dict[str, Any]) -> None:
        self.store.compliance.record_event(event_type, severity, ip=actor.ip,
                                           user_agent=actor.user_agent,
                                           details={**actor.details(), **details})

    # -- views --------------------------------------------------------------------------

    def blocked_keys(self, limit: int = 20) -> list[BlockedKey]:
        """Keys with blocked events (they wait for an earlier unfinished event of
        the same key), with that head: read from the partial index over blocked
        rows, so it costs what it shows."""
        p = self.p
        rows = self.backend.fetch(
            "SELECT ordering_key, COUNT(*) FROM service_sync WHERE blocked = true "
            f"GROUP BY ordering_key ORDER BY ordering_key LIMIT {p}", (limit,))
        keys = []
        for key, waiting in rows:
            head = self.backend.fetch(
                "SELECT id, status, service, attempts, last_error FROM service_sync "
                f"WHERE ordering_key = {p} AND status IN {UNFINISHED} ORDER BY id LIMIT 1",
                (key,))
            h = head[0] if head else (None,) * 5
            keys.append(BlockedKey(key, int(waiting), *h))
        return keys

    def delayed(self, limit: int = 20) -> list[DelayedEvent]:
        """PENDING events whose time has not come, soonest first (the ready index)."""
        read = self.backend.read_datetime
        rows = self.backend.fetch(
            "SELECT id, service, entity_type, entity_id, attempts, max_attempts, "
            "available_at, last_error FROM service_sync WHERE status = 'PENDING' AND "
            f"blocked = false AND available_at > {self.p} ORDER BY available_at, id "
            f"LIMIT {self.p}", (self.outbox.sql.when(utcnow()), limit))
        return [DelayedEvent(r[0], r[1], r[2], r[3], r[4], r[5], read(r[6]), r[7])
                for r in rows]


__all__ = ["Actor", "BlockedKey", "DelayedEvent", "Operations", "check_ids"]
