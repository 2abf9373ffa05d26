-- 0011_search_skills (down, postgresql): frozen; never edit, add a migration.

DROP TRIGGER IF EXISTS trg_job_skills_vectors_insert ON job_skills;

DROP TRIGGER IF EXISTS trg_job_skills_vectors_delete ON job_skills;

DROP TRIGGER IF EXISTS trg_job_skills_vectors_update ON job_skills;

DROP TRIGGER IF EXISTS trg_job_skills_vectors_truncate ON job_skills;

DROP FUNCTION IF EXISTS azora_refresh_job_vectors();

DROP TRIGGER IF EXISTS trg_jobs_vectors_update ON jobs;

DROP TRIGGER IF EXISTS trg_jobs_vectors_insert ON jobs;

DROP FUNCTION IF EXISTS azora_job_vectors();

DROP INDEX IF EXISTS ix_jobs_search;

DROP INDEX IF EXISTS ix_jobs_title_search;

ALTER TABLE jobs DROP COLUMN IF EXISTS search_vector;

ALTER TABLE jobs DROP COLUMN IF EXISTS title_vector;

ALTER TABLE jobs ADD COLUMN title_vector tsvector GENERATED ALWAYS AS (CASE WHEN status = 'OPEN' AND deleted_at IS NULL THEN to_tsvector('english', title) END) STORED;

ALTER TABLE jobs ADD COLUMN search_vector tsvector GENERATED ALWAYS AS (CASE WHEN status = 'OPEN' AND deleted_at IS NULL THEN setweight(to_tsvector('english', title), 'A') || setweight(to_tsvector('english', description), 'B') END) STORED;

CREATE INDEX ix_jobs_title_search ON jobs USING GIN (title_vector) WHERE status = 'OPEN' AND deleted_at IS NULL;

CREATE INDEX ix_jobs_search ON jobs USING GIN (search_vector) WHERE status = 'OPEN' AND deleted_at IS NULL;
