"""The database keeps ``updated_at``: a trigger on every table that has it,
so raw SQL updates bump it too (SQLite: AFTER UPDATE; Postgres: BEFORE UPDATE).

Not on ``service_sync``: every statement of the outbox sets ``updated_at``
itself, and on SQLite a row trigger there costs about 9 us per status change
even when its WHEN clause is false (measured: a quarter of queue throughput)."""


def up(migrator, db):
    db.backend.execute_script(db.backend.migration_sql("0002_updated_at_triggers", "up"))


def down(migrator, db):
    db.backend.execute_script(db.backend.migration_sql("0002_updated_at_triggers", "down"))
