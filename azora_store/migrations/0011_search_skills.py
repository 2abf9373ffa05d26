"""Job search: each OPEN job's skills inside its full-text index entry, so that
text + skills is one index intersection (SQLite's FTS5 table already holds them
as tokens). On Postgres the title and search vectors become trigger-maintained
columns that also hold the job's skills, currency and id window as lexemes, with
their GIN indexes rebuilt without a pending list."""


def up(migrator, db):
    db.backend.execute_script(db.backend.migration_sql("0011_search_skills", "up"))


def down(migrator, db):
    db.backend.execute_script(db.backend.migration_sql("0011_search_skills", "down"))
