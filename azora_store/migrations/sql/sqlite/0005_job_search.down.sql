-- 0005_job_search (down, sqlite): frozen; never edit, add a migration.

DROP TRIGGER IF EXISTS trg_job_skills_fill;

DROP TRIGGER IF EXISTS trg_jobs_postings;

UPDATE job_skills SET open_created_at = NULL, budget_minor = NULL, currency = NULL;

DROP TRIGGER IF EXISTS trg_jobs_fts_insert;

DROP TRIGGER IF EXISTS trg_jobs_fts_delete;

DROP TRIGGER IF EXISTS trg_jobs_fts_update;

DROP TRIGGER IF EXISTS trg_job_skills_fts_insert;

DROP TRIGGER IF EXISTS trg_job_skills_fts_delete;

DROP TRIGGER IF EXISTS trg_job_skills_fts_update;

DROP TABLE IF EXISTS jobs_fts;

DROP VIEW IF EXISTS jobs_search_source;

DROP INDEX IF EXISTS ix_jobs_search_rid;
