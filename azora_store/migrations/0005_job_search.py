"""Full-text search over OPEN jobs: an FTS5 external-content table kept by
triggers on SQLite; a generated tsvector with a partial GIN index on Postgres."""


def up(migrator, db):
    db.backend.execute_script(db.backend.job_search_ddl())


def down(migrator, db):
    db.backend.execute_script(db.backend.drop_job_search_ddl())
