"""Outbox wake-ups: on Postgres an insert into ``service_sync`` NOTIFYs
``azora_outbox`` from the inserting transaction (a statement trigger; Postgres
delivers it at commit, once per transaction however many events it queued), so
idle workers LISTENing on it claim at once instead of at their next poll.
SQLite needs no DDL: its workers watch the WAL (``backends/wakeups.py``)."""


def up(migrator, db):
    db.backend.execute_script(db.backend.migration_sql("0018_outbox_wakeups", "up"))


def down(migrator, db):
    db.backend.execute_script(db.backend.migration_sql("0018_outbox_wakeups", "down"))
