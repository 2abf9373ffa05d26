"""The transactional outbox (``ServiceSync``), the event log its built-in
handler writes, exact status counters, and the consumer tracking table that
makes in-database handlers run exactly once."""

from __future__ import annotations

from enum import StrEnum

from peewee import (
    SQL,
    BigAutoField,
    BigIntegerField,
    BooleanField,
    CharField,
    CompositeKey,
    DateTimeField,
    ModelIndex,
    TextField,
)

from .base import BaseModel, json_field
from .fields import (
    CheckedCharField,
    CheckedIntegerField,
    EnumField,
    at_least,
    created_at,
    not_blank,
    updated_at,
)


class SyncStatus(StrEnum):
    PENDING = "PENDING"
    PROCESSING = "PROCESSING"
    COMPLETED = "COMPLETED"
    FAILED = "FAILED"


class SyncOperation(StrEnum):
    CREATE = "CREATE"
    UPDATE = "UPDATE"
    DELETE = "DELETE"  # a soft delete
    SYNC = "SYNC"


class ServiceSync(BaseModel):
    """One event to deliver to one service. ``id`` is its stable identity."""

    id = BigAutoField()
    service = CheckedCharField(max_length=64, rules=[not_blank()])
    entity_type = CheckedCharField(max_length=64, rules=[not_blank()])
    entity_id = CheckedCharField(max_length=64, rules=[not_blank()])
    operation = EnumField(SyncOperation)
    payload = json_field(default=dict)
    status = EnumField(SyncStatus, default=SyncStatus.PENDING)
    ordering_key = CheckedCharField(max_length=200, rules=[not_blank()])
    dedup_key = CharField(max_length=200, null=True)
    # A hint, not a rule: set when a claim found an earlier unfinished event of
    # the same ordering key, so later claims skip this row without probing.
    blocked = BooleanField(default=False)
    attempts = CheckedIntegerField(default=0, rules=[at_least(0)])
    max_attempts = CheckedIntegerField(default=3, rules=[at_least(1)])
    available_at = created_at()  # not claimable before this (backoff)
    lease_owner = CharField(max_length=100, null=True)
    lease_expires_at = DateTimeField(null=True)
    last_error = TextField(null=True)
    created_at = created_at()
    updated_at = updated_at()
    completed_at = DateTimeField(null=True)

    class Meta:
        table_name = "service_sync"


_UNFINISHED = [SyncStatus.PENDING, SyncStatus.PROCESSING, SyncStatus.FAILED]
# Spelled with the true/false keywords, which both dialects accept: a query
# only uses a partial index if it spells the predicate the same way.
BLOCKED, NOT_BLOCKED = SQL('"blocked" = true'), SQL('"blocked" = false')
for _index in (
    # Deduplication: only rows that carry a key are indexed.
    ModelIndex(ServiceSync, (ServiceSync.dedup_key,), unique=True, name="uq_service_sync_dedup",
               where=ServiceSync.dedup_key.is_null(False)),
    # What a claim walks: ready events by the time they become available.
    ModelIndex(ServiceSync, (ServiceSync.available_at, ServiceSync.id),
               name="ix_service_sync_ready",
               where=(ServiceSync.status == SyncStatus.PENDING) & NOT_BLOCKED),
    # Per-key order: is there an earlier unfinished event of this key?
    ModelIndex(ServiceSync, (ServiceSync.ordering_key, ServiceSync.id),
               name="ix_service_sync_unfinished", where=ServiceSync.status.in_(_UNFINISHED)),
    # The oldest pending event (sync status).
    ModelIndex(ServiceSync, (ServiceSync.id,), name="ix_service_sync_pending",
               where=ServiceSync.status == SyncStatus.PENDING),
    # Expired leases (rescue).
    ModelIndex(ServiceSync, (ServiceSync.lease_expires_at,), name="ix_service_sync_leases",
               where=ServiceSync.status == SyncStatus.PROCESSING),
    # Blocked events waiting for their key's head (unblock, sweep).
    ModelIndex(ServiceSync, (ServiceSync.ordering_key, ServiceSync.id),
               name="ix_service_sync_blocked", where=BLOCKED),
    # Dead letters newest first, all or one service's (sync failed, migration 0020).
    ModelIndex(ServiceSync, (ServiceSync.id,), name="ix_service_sync_failed",
               where=ServiceSync.status == SyncStatus.FAILED),
    ModelIndex(ServiceSync, (ServiceSync.service, ServiceSync.id),
               name="ix_service_sync_failed_service",
               where=ServiceSync.status == SyncStatus.FAILED),
):
    ServiceSync.add_index(_index)


class EventLog(BaseModel):
    """What the built-in ``eventlog`` handler records: one row per event.
    ``source`` is '' for this database's own events, else the identity of the
    database a broker consumer brought the event from."""

    id = BigAutoField()
    event_id = BigIntegerField()
    source = CharField(max_length=64, default="", constraints=[SQL("DEFAULT ''")])
    service = CharField(max_length=64)
    entity_type = CharField(max_length=64)
    entity_id = CharField(max_length=64)
    operation = CharField(max_length=16)
    payload = json_field(default=dict)
    created_at = created_at()

    class Meta:
        table_name = "event_log"
        indexes = ((("source", "event_id"), True),)


class SyncCounter(BaseModel):
    """Exact event counts per (service, status), changed in the same transaction
    as every insert, status change and delete of the outbox (by triggers).
    The true count is this row plus any unfolded ``SyncCounterDelta`` rows."""

    service = CharField(max_length=64)
    status = EnumField(SyncStatus)
    count = BigIntegerField(default=0)

    class Meta:
        table_name = "sync_counters"
        primary_key = CompositeKey("service", "status")


class SyncCounterDelta(BaseModel):
    """Insert-only count changes, one row per (statement, service, status).

    On Postgres every outbox statement appends its deltas here instead of
    updating a shared counter row: no lock waits between writers, no deadlocks,
    and no long version chains when one transaction enqueues thousands of
    events. Workers fold the deltas into ``SyncCounter`` every second. SQLite
    (one writer, updates in place) updates ``SyncCounter`` directly."""

    service = CharField(max_length=64)
    status = EnumField(SyncStatus)
    delta = BigIntegerField()

    class Meta:
        table_name = "sync_counter_deltas"
        primary_key = False


class SyncThroughput(BaseModel):
    """Events completed per minute (naive UTC, truncated to the minute), added by
    each worker at housekeeping and kept for two hours: the dashboard's chart
    reads 60 rows, never the outbox."""

    minute = DateTimeField(primary_key=True)
    completed = BigIntegerField()

    class Meta:
        table_name = "sync_throughput"


class ConsumedEvent(BaseModel):
    """Written by a handler in the same transaction as its effect: a repeated
    delivery finds the row and does nothing. ``source`` tells apart events of
    other databases (their ids collide); '' for this database's own."""

    consumer = CharField(max_length=64)
    source = CharField(max_length=64, default="", constraints=[SQL("DEFAULT ''")])
    event_id = BigIntegerField()
    processed_at = created_at()

    class Meta:
        table_name = "consumed_events"
        primary_key = CompositeKey("consumer", "source", "event_id")


class StoreIdentity(BaseModel):
    """One row: this database's random identity, made by migration 0019. Events
    published to brokers carry it, so ids from many outboxes never collide."""

    source = CharField(max_length=64, primary_key=True)

    class Meta:
        table_name = "store_identity"


class ConsumerPosition(BaseModel):
    """How far a broker consumer has applied a stream (NATS: the stream sequence),
    written in the same transaction as the effects: a restarted consumer resumes
    right after it, in order, with nothing applied twice."""

    consumer = CharField(max_length=200, primary_key=True)
    position = BigIntegerField()
    saved_at = DateTimeField()  # set by the consumer (no updated_at trigger needed)

    class Meta:
        table_name = "consumer_positions"


__all__ = ["ConsumedEvent", "ConsumerPosition", "EventLog", "ServiceSync", "StoreIdentity",
           "SyncCounter", "SyncCounterDelta", "SyncOperation", "SyncStatus", "SyncThroughput"]
