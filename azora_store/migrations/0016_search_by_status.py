"""Job search by any status: each skill posting also carries its job's status
(NULL while OPEN, whose postings ``ix_job_skills_open`` holds, or deleted) and
creation time, kept by the postings triggers, so a rare or absent skill drives
the walk whatever the status; and covering indexes on jobs per status, newest
first (``ix_jobs_listed``, which replaces ``ix_jobs_status_created``) and by
currency and budget (``ix_jobs_listed_budget``)."""


def up(migrator, db):
    db.backend.execute_script(db.backend.migration_sql("0016_search_by_status", "up"))


def down(migrator, db):
    db.backend.execute_script(db.backend.migration_sql("0016_search_by_status", "down"))
