"""Job search: full-text over OPEN jobs (an FTS5 external-content table kept
by triggers on SQLite; generated title and title+description tsvectors with
partial GIN indexes on Postgres), and the triggers that keep each skill
posting's copy of its job's open state, budget and currency."""


def up(migrator, db):
    db.backend.execute_script(db.backend.migration_sql("0005_job_search", "up"))


def down(migrator, db):
    db.backend.execute_script(db.backend.migration_sql("0005_job_search", "down"))
