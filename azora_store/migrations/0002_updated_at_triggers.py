"""The database keeps ``updated_at``: a trigger on every table that has it,
so raw SQL updates bump it too (SQLite: AFTER UPDATE; Postgres: BEFORE UPDATE)."""

TABLES = ("users", "courses", "enrollments", "jobs", "applications", "escrows", "milestones",
          "skill_verifications", "disputes", "accounts", "kyc_verifications", "service_sync")


def up(migrator, db):
    db.backend.execute_script(db.backend.updated_at_triggers(TABLES))


def down(migrator, db):
    db.backend.execute_script(db.backend.drop_updated_at_triggers(TABLES))
