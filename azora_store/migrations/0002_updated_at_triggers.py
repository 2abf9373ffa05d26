"""The database keeps ``updated_at``: a trigger on every table that has it,
so raw SQL updates bump it too (SQLite: AFTER UPDATE; Postgres: BEFORE UPDATE).

Not on ``service_sync``: every statement of the outbox sets ``updated_at``
itself, and on SQLite a row trigger there costs about 9 us per status change
even when its WHEN clause is false (measured: a quarter of queue throughput)."""

TABLES = ("users", "courses", "enrollments", "jobs", "applications", "escrows", "milestones",
          "skill_verifications", "disputes", "accounts", "kyc_verifications")


def up(migrator, db):
    db.backend.execute_script(db.backend.updated_at_triggers(TABLES))


def down(migrator, db):
    db.backend.execute_script(db.backend.drop_updated_at_triggers(TABLES))
