"""Security events: an append-only, hash-chained log.

Each row stores ``prev_hash`` (the hash of the row before it; the first row
has 64 zeros) and ``hash = sha256(prev_hash + canonical JSON of the row's
content)``, where the content is everything but the id: event type, severity,
user, ip, user agent, details (canonical JSON text), created_at and prev_hash.
The chain head is read under a named lock (Postgres: an advisory transaction
lock; SQLite: the write lock), so two writers never chain onto the same row.
The database refuses UPDATE and DELETE on the table (triggers, both backends).

``verify_chain`` walks the log in id order, in batches, and reports the first
row whose content no longer matches its hash, or whose ``prev_hash`` does not
match the row before it (a row was altered or removed). Removing the newest
rows leaves a shorter valid chain: compare ``head_hash`` with a copy kept
elsewhere to detect that too.
"""

from __future__ import annotations

import hashlib
import ipaddress
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from ..errors import ValidationError
from ..models import SecurityEvent, Severity, SyncOperation
from ..support import jsonutil
from ..support.clock import utcnow
from ..workflow.service import Service, enum_value, text

GENESIS = "0" * 64
CHAIN_LOCK = "security_events"
FIELDS = (SecurityEvent.id, SecurityEvent.event_type, SecurityEvent.severity,
          SecurityEvent.user, SecurityEvent.ip_address, SecurityEvent.user_agent,
          SecurityEvent.details, SecurityEvent.created_at, SecurityEvent.prev_hash,
          SecurityEvent.hash)


def event_hash(event_type: str, severity: str, user_id: int | None, ip_address: str | None,
               user_agent: str | None, details: str, created_at: datetime,
               prev_hash: str) -> str:
    content = jsonutil.dumps({
        "event_type": event_type, "severity": str(severity), "user_id": user_id,
        "ip_address": ip_address, "user_agent": user_agent, "details": details,
        "created_at": created_at.isoformat(), "prev_hash": prev_hash})
    return hashlib.sha256((prev_hash + content).encode()).hexdigest()


@dataclass(frozen=True)
class ChainReport:
    """The result of ``verify_chain``: OK, or the first broken link and why."""

    ok: bool
    checked: int
    head_hash: str
    broken_id: int | None = None
    reason: str = ""

    def __str__(self) -> str:
        if self.ok:
            return f"audit chain OK: {self.checked} event(s), head {self.head_hash[:16]}..."
        return f"audit chain BROKEN at security event {self.broken_id}: {self.reason}"


def _check_ip(ip: str | None) -> str | None:
    if ip is None:
        return None
    try:
        return str(ipaddress.ip_address(ip.strip() if isinstance(ip, str) else ip))
    except ValueError:
        raise ValidationError(f"ip must be an IPv4 or IPv6 address, got {ip!r}", field="ip",
                              rule="format") from None


class AuditMixin(Service):
    def record_event(self, event_type: str, severity: Severity | str = Severity.INFO, *,
                     user_id: int | None = None, ip: str | None = None,
                     user_agent: str | None = None,
                     details: dict[str, Any] | None = None) -> SecurityEvent:
        """Append one event to the chain (in the caller's transaction if any)."""
        event_type = text(event_type, "event_type", 64)
        severity = enum_value(Severity, severity, "severity")
        ip = _check_ip(ip)
        if user_agent is not None:
            user_agent = text(user_agent, "user_agent", 1_000, required=False)
        if details is not None and not isinstance(details, dict):
            raise ValidationError("details must be a JSON object (a dict)", field="details",
                                  rule="type")
        try:
            details_text = jsonutil.dumps(details or {})
        except (TypeError, ValueError) as exc:
            raise ValidationError(f"details are not JSON-serialisable: {exc}",
                                  field="details", rule="type") from None
        with self.store.atomic():
            if user_id is not None:
                self._user(user_id)
            self.store.backend.lock_named(CHAIN_LOCK)
            head = (SecurityEvent.select(SecurityEvent.hash)
                    .order_by(SecurityEvent.id.desc()).limit(1).scalar())
            prev_hash = head or GENESIS
            created_at = utcnow()
            digest = event_hash(event_type, severity, user_id, ip, user_agent, details_text,
                                created_at, prev_hash)
            event = SecurityEvent.create(user=user_id, event_type=event_type,
                                         severity=severity, ip_address=ip,
                                         user_agent=user_agent, details=details_text,
                                         created_at=created_at, prev_hash=prev_hash,
                                         hash=digest)
            self._emit("SecurityEvent", event.id, SyncOperation.CREATE,
                       {"event_type": event_type, "severity": str(severity),
                        "user_id": user_id})
        return event

    def verify_chain(self, batch: int = 5_000) -> ChainReport:
        """Walk every security event in id order; stop at the first broken link."""
        prev_hash, prev_id, checked, last_id = GENESIS, None, 0, 0
        while True:
            rows = list(SecurityEvent.select(*FIELDS).where(SecurityEvent.id > last_id)
                        .order_by(SecurityEvent.id).limit(batch).tuples())
            for row in rows:
                problem = _link_problem(row, prev_hash, prev_id)
                if problem:
                    return ChainReport(False, checked, prev_hash, row[0], problem)
                prev_hash, prev_id, checked = row[9], row[0], checked + 1
            if len(rows) < batch:
                return ChainReport(True, checked, prev_hash)
            last_id = rows[-1][0]


def _link_problem(row: tuple, prev_hash: str, prev_id: int | None) -> str:
    (row_id, event_type, severity, user_id, ip, user_agent, details, created_at,
     stored_prev, stored_hash) = row
    if stored_prev != prev_hash:
        where = f"security event {prev_id}" if prev_id is not None else "the chain's start"
        gap = (f"; ids {prev_id + 1}..{row_id - 1} are missing"
               if prev_id is not None and row_id > prev_id + 1 else "")
        return (f"prev_hash mismatch: it does not match the hash of {where} (a row before "
                f"it was removed or altered{gap})")
    expected = event_hash(event_type, severity, user_id, ip, user_agent, details,
                          created_at, stored_prev)
    if expected != stored_hash:
        return "content hash mismatch: the row was altered after it was written"
    return ""


__all__ = ["GENESIS", "AuditMixin", "ChainReport", "event_hash"]
