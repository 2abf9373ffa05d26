DROP INDEX IF EXISTS ix_jobs_listed_budget;
DROP INDEX IF EXISTS ix_jobs_listed;
CREATE INDEX "ix_jobs_status_created" ON "jobs" ("status", "created_at");
DROP INDEX IF EXISTS ix_job_skills_status;

CREATE OR REPLACE FUNCTION azora_fill_job_skill() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    SELECT CASE WHEN j.status = 'OPEN' AND j.deleted_at IS NULL THEN j.created_at END,
           j.budget_minor, j.currency
      INTO NEW.open_created_at, NEW.budget_minor, NEW.currency
      FROM jobs AS j WHERE j.id = NEW.job_id;
    RETURN NEW;
END $$;

CREATE OR REPLACE FUNCTION azora_sync_job_postings() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE job_skills
       SET open_created_at = CASE WHEN NEW.status = 'OPEN' AND NEW.deleted_at IS NULL
                                  THEN NEW.created_at END,
           budget_minor = NEW.budget_minor, currency = NEW.currency
     WHERE job_id = NEW.id;
    RETURN NULL;
END $$;

ALTER TABLE job_skills DROP COLUMN job_created_at, DROP COLUMN job_status;
