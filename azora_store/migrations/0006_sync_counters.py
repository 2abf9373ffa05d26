"""Exact outbox status counters, kept by triggers in the same transaction as
every insert, status change and delete of ``service_sync`` (SQLite: row
triggers updating ``sync_counters``; Postgres: statement triggers appending
insert-only ``sync_counter_deltas`` that workers fold), plus queue-friendly
autovacuum settings on Postgres."""


def up(migrator, db):
    db.backend.execute_script(db.backend.migration_sql("0006_sync_counters", "up"))


def down(migrator, db):
    db.backend.execute_script(db.backend.migration_sql("0006_sync_counters", "down"))
