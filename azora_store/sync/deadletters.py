"""Dead letters (FAILED outbox events): list them, and check ids before acting.

A page is keyset-paged newest first (``before`` = the smallest id of the
previous page) and walks a partial index that holds FAILED rows only
(``ix_service_sync_failed``, or ``ix_service_sync_failed_service`` when one
service is asked for; migration 0020), so it reads about as many rows as it
shows however many events have failed. An ``error`` filter (case-insensitive
substring of ``last_error``) is checked on the rows that walk reads: a rare
text scans further, bounded by the number of failed events.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from ..errors import NotFound, ValidationError
from ..models.sync import SyncStatus

if TYPE_CHECKING:
    from ..store import Store

DEFAULT_LIMIT = 50
MAX_LIMIT = 500
MAX_ERROR_FILTER = 200
MAX_ID = 2**63 - 1
_COLUMNS = ("id, service, entity_type, entity_id, ordering_key, attempts, max_attempts, "
            "last_error, updated_at, created_at")


@dataclass(frozen=True)
class FailedEvent:
    """One dead letter: ``failed_at`` is when it was last changed (its last
    failed attempt); ``last_error`` what the handler said."""

    id: int
    service: str
    entity_type: str
    entity_id: str
    ordering_key: str
    attempts: int
    max_attempts: int
    last_error: str | None
    failed_at: datetime
    created_at: datetime

    def to_json(self) -> dict[str, Any]:
        return {"id": self.id, "service": self.service, "entity_type": self.entity_type,
                "entity_id": self.entity_id, "ordering_key": self.ordering_key,
                "attempts": self.attempts, "max_attempts": self.max_attempts,
                "last_error": self.last_error, "failed_at": self.failed_at.isoformat(),
                "created_at": self.created_at.isoformat()}


@dataclass(frozen=True)
class FailedPage:
    items: list[FailedEvent]
    next_before: int | None  # pass as ``before`` for the next page; None on the last

    def to_json(self) -> dict[str, Any]:
        return {"items": [item.to_json() for item in self.items],
                "next_before": self.next_before}


def like_pattern(text: str) -> str:
    """``text`` as a case-insensitive LIKE substring pattern (escape ``\\``)."""
    escaped = text.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


class DeadLetters:
    def __init__(self, store: Store):
        self.store = store
        self.backend = store.backend
        self.p = store.db.param

    def filters(self, service: str | None, error: str | None) -> tuple[list[str], list[Any]]:
        """WHERE clauses (after ``status = 'FAILED'``) and parameters of a filter."""
        clauses, params = [], []
        if service is not None:
            _check_text(service, "service", 64)
            clauses.append(f"service = {self.p}")
            params.append(service)
        if error is not None and error != "":
            _check_text(error, "error", MAX_ERROR_FILTER)
            clauses.append(f"LOWER(last_error) LIKE {self.p} ESCAPE '\\'")
            params.append(like_pattern(error))
        return clauses, params

    def page(self, service: str | None = None, error: str | None = None,
             limit: int = DEFAULT_LIMIT, before: int | None = None) -> FailedPage:
        """FAILED events newest first, ``limit`` at a time (keyset on id)."""
        if isinstance(limit, bool) or not isinstance(limit, int) or \
                not 1 <= limit <= MAX_LIMIT:
            raise ValidationError(f"limit must be a whole number from 1 to {MAX_LIMIT}",
                                  field="limit", rule="range")
        if before is not None and (isinstance(before, bool) or not isinstance(before, int)
                                   or not 1 <= before <= MAX_ID):
            raise ValidationError("before must be an event id (a positive whole number)",
                                  field="before", rule="range")
        clauses, params = self.filters(service, error)
        if before is not None:
            clauses.append(f"id < {self.p}")
            params.append(before)
        where = "".join(f" AND {clause}" for clause in clauses)
        sql = (f"SELECT {_COLUMNS} FROM service_sync WHERE status = 'FAILED'{where} "
               f"ORDER BY id DESC LIMIT {self.p}")
        rows = self.backend.fetch(sql, [*params, limit + 1])
        read = self.backend.read_datetime
        items = [FailedEvent(r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[7], read(r[8]),
                             read(r[9])) for r in rows[:limit]]
        return FailedPage(items, items[-1].id if len(rows) > limit else None)

    def require_failed(self, ids: Sequence[int]) -> None:
        """NotFound naming every id that is not a FAILED event (unknown ids, and
        ids of events in another status), so an action on them changes nothing."""
        wanted = sorted(set(ids))
        bad = [i for i in wanted if isinstance(i, bool) or not isinstance(i, int)
               or not 1 <= i <= MAX_ID]
        if bad:
            raise ValidationError(f"ids must be event ids (positive whole numbers), got {bad}",
                                  field="ids", rule="range")
        found = dict(self.backend.fetch(
            f"SELECT id, status FROM service_sync WHERE {self.backend.sql_in('id')}",
            [self.backend.list_param(wanted)]))
        unknown = [i for i in wanted if i not in found]
        if unknown:
            raise NotFound(f"unknown event id(s): {', '.join(map(str, unknown))}",
                           field="ids", rule="exists")
        other = [f"{i} ({found[i]})" for i in wanted if found[i] != SyncStatus.FAILED]
        if other:
            raise NotFound(f"event(s) not FAILED: {', '.join(other)}", field="ids",
                           rule="failed")


def _check_text(value: Any, name: str, max_length: int) -> None:
    if not isinstance(value, str) or not value.strip():
        raise ValidationError(f"{name} must be a non-empty string", field=name,
                              rule="not_blank")
    if len(value) > max_length or "\x00" in value:
        raise ValidationError(f"{name} must be at most {max_length} characters, no NUL",
                              field=name, rule="max_length")
