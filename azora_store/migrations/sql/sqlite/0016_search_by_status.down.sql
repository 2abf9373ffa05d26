DROP INDEX IF EXISTS ix_jobs_listed_budget;
DROP INDEX IF EXISTS ix_jobs_listed;
CREATE INDEX "ix_jobs_status_created" ON "jobs" ("status", "created_at");
DROP INDEX IF EXISTS ix_job_skills_status;

DROP TRIGGER IF EXISTS trg_job_skills_fill;
CREATE TRIGGER trg_job_skills_fill AFTER INSERT ON job_skills
BEGIN
    UPDATE job_skills
       SET open_created_at = CASE WHEN j.status = 'OPEN' AND j.deleted_at IS NULL
                                  THEN j.created_at END,
           budget_minor = j.budget_minor, currency = j.currency
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
           budget_minor = NEW.budget_minor, currency = NEW.currency
     WHERE job_id = NEW.id;
END;

ALTER TABLE job_skills DROP COLUMN job_created_at;
ALTER TABLE job_skills DROP COLUMN job_status;
