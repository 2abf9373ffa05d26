-- 0005_job_search (down, postgresql): frozen; never edit, add a migration.

DROP TRIGGER IF EXISTS trg_jobs_postings ON jobs;

DROP FUNCTION IF EXISTS azora_sync_job_postings();

DROP TRIGGER IF EXISTS trg_job_skills_fill ON job_skills;

DROP FUNCTION IF EXISTS azora_fill_job_skill();

UPDATE job_skills SET open_created_at = NULL, budget_minor = NULL, currency = NULL;

DROP INDEX IF EXISTS ix_jobs_search;

DROP INDEX IF EXISTS ix_jobs_title_search;

ALTER TABLE jobs DROP COLUMN IF EXISTS search_vector;

ALTER TABLE jobs DROP COLUMN IF EXISTS title_vector;
