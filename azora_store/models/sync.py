"""The transactional outbox (``ServiceSync``), the event log its built-in
handler writes, exact status counters, and the consumer tracking table that
makes in-database handlers run exactly once."""

from __future__ import annotations

from enum import StrEnum

from peewee import (
    BigAutoField,
    BigIntegerField,
    CharField,
    CompositeKey,
    DateTimeField,
    IntegerField,
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
    dedup_key = CharField(max_length=200, null=True, unique=True)
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


class EventLog(BaseModel):
    """What the built-in ``eventlog`` handler records: one row per event."""

    id = BigAutoField()
    event_id = BigIntegerField(unique=True)
    service = CharField(max_length=64)
    entity_type = CharField(max_length=64)
    entity_id = CharField(max_length=64)
    operation = CharField(max_length=16)
    payload = json_field(default=dict)
    created_at = created_at()

    class Meta:
        table_name = "event_log"


class SyncCounter(BaseModel):
    """Exact event counts per (service, status), kept in the same transaction
    as every status change. Rows are sharded so concurrent writers rarely
    touch the same row; a status is the sum over its shards."""

    service = CharField(max_length=64)
    status = EnumField(SyncStatus)
    shard = IntegerField(default=0)
    count = BigIntegerField(default=0)

    class Meta:
        table_name = "sync_counters"
        primary_key = CompositeKey("service", "status", "shard")


class ConsumedEvent(BaseModel):
    """Written by a handler in the same transaction as its effect: a repeated
    delivery finds the row and does nothing."""

    consumer = CharField(max_length=64)
    event_id = BigIntegerField()
    processed_at = created_at()

    class Meta:
        table_name = "consumed_events"
        primary_key = CompositeKey("consumer", "event_id")


__all__ = ["ConsumedEvent", "EventLog", "ServiceSync", "SyncCounter", "SyncOperation",
           "SyncStatus"]
