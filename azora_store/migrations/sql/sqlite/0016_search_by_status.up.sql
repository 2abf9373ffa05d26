-- Skill postings carry their job's status (NULL while OPEN or deleted) and
-- creation time: a rare skill drives the walk whatever the status.
ALTER TABLE job_skills ADD COLUMN job_status VARCHAR(11) CONSTRAINT "ck_job_skills_job_status_enum" CHECK ("job_status" IN ('OPEN', 'IN_PROGRESS', 'COMPLETED', 'CANCELLED'));
ALTER TABLE job_skills ADD COLUMN job_created_at DATETIME;

DROP TRIGGER IF EXISTS trg_job_skills_fill;
CREATE TRIGGER trg_job_skills_fill AFTER INSERT ON job_skills
BEGIN
    UPDATE job_skills
       SET open_created_at = CASE WHEN j.status = 'OPEN' AND j.deleted_at IS NULL
                                  THEN j.created_at END,
           budget_minor = j.budget_minor, currency = j.currency,
           job_status = CASE WHEN j.status <> 'OPEN' AND j.deleted_at IS NULL
                             THEN j.status END,
           job_created_at = j.created_at
      FROM jobs AS j
     WHERE j.id = NEW.job_id AND job_skills.job_id = NEW.job_id
       AND job_skills.skill = NEW.skill;
END;

DROP TRIGGER IF EXISTS trg_jobs_postings;
CREATE TRIGGER trg_jobs_postings AFTER UPDATE OF status, deleted_at, budget_minor,
currency, created_at ON jobs
BEGIN
    UPDATE job_skills
       SET open_created_at = CASE WHEN NEW.status = 'OPEN' AND NEW.deleted_at IS NULL THEN NEW.created_at END,
           budget_minor = NEW.budget_minor, currency = NEW.currency,
           job_status = CASE WHEN NEW.status <> 'OPEN' AND NEW.deleted_at IS NULL THEN NEW.status END,
           job_created_at = NEW.created_at
     WHERE job_id = NEW.id;
END;

UPDATE job_skills
   SET job_status = CASE WHEN j.status <> 'OPEN' AND j.deleted_at IS NULL THEN j.status END,
       job_created_at = j.created_at
  FROM jobs AS j
 WHERE j.id = job_skills.job_id;

CREATE INDEX "ix_job_skills_status" ON "job_skills" ("skill", "job_status", "job_created_at", "job_id", "budget_minor", "currency") WHERE ("job_status" IS NOT NULL);

-- Jobs of any status, newest first or by currency and budget, both covering
-- (deleted_at too: SQLite reads the table for a column only a partial index's
-- WHERE names).
DROP INDEX IF EXISTS ix_jobs_status_created;
CREATE INDEX "ix_jobs_listed" ON "jobs" ("status", "created_at", "id", "budget_minor", "currency", "deleted_at");
CREATE INDEX "ix_jobs_listed_budget" ON "jobs" ("status", "currency", "budget_minor", "created_at", "id", "deleted_at");
