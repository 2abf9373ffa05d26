-- 0005_job_search (up, postgresql): frozen; never edit, add a migration.

ALTER TABLE jobs ADD COLUMN title_vector tsvector GENERATED ALWAYS AS (CASE WHEN status = 'OPEN' AND deleted_at IS NULL THEN to_tsvector('english', title) END) STORED;

ALTER TABLE jobs ADD COLUMN search_vector tsvector GENERATED ALWAYS AS (CASE WHEN status = 'OPEN' AND deleted_at IS NULL THEN setweight(to_tsvector('english', title), 'A') || setweight(to_tsvector('english', description), 'B') END) STORED;

CREATE INDEX ix_jobs_title_search ON jobs USING GIN (title_vector) WHERE status = 'OPEN' AND deleted_at IS NULL;

CREATE INDEX ix_jobs_search ON jobs USING GIN (search_vector) WHERE status = 'OPEN' AND deleted_at IS NULL;

CREATE FUNCTION azora_fill_job_skill() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    SELECT CASE WHEN j.status = 'OPEN' AND j.deleted_at IS NULL THEN j.created_at END,
           j.budget_minor, j.currency
      INTO NEW.open_created_at, NEW.budget_minor, NEW.currency
      FROM jobs AS j WHERE j.id = NEW.job_id;
    RETURN NEW;
END $$;

CREATE TRIGGER trg_job_skills_fill BEFORE INSERT ON job_skills FOR EACH ROW EXECUTE FUNCTION azora_fill_job_skill();

CREATE FUNCTION azora_sync_job_postings() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE job_skills
       SET open_created_at = CASE WHEN NEW.status = 'OPEN' AND NEW.deleted_at IS NULL
                                  THEN NEW.created_at END,
           budget_minor = NEW.budget_minor, currency = NEW.currency
     WHERE job_id = NEW.id;
    RETURN NULL;
END $$;

CREATE TRIGGER trg_jobs_postings AFTER UPDATE OF status, deleted_at, budget_minor, currency, created_at ON jobs FOR EACH ROW WHEN (OLD.status IS DISTINCT FROM NEW.status OR OLD.deleted_at IS DISTINCT FROM NEW.deleted_at OR OLD.budget_minor IS DISTINCT FROM NEW.budget_minor OR OLD.currency IS DISTINCT FROM NEW.currency OR OLD.created_at IS DISTINCT FROM NEW.created_at) EXECUTE FUNCTION azora_sync_job_postings();

UPDATE job_skills AS s SET open_created_at = CASE WHEN j.status = 'OPEN' AND j.deleted_at IS NULL THEN j.created_at END, budget_minor = j.budget_minor, currency = j.currency FROM jobs AS j WHERE j.id = s.job_id;
