-- 0014_search_budget_pairs (up, postgresql): frozen; never edit, add a migration.

CREATE OR REPLACE FUNCTION azora_job_vectors() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    facets tsvector;
BEGIN
    IF NEW.status = 'OPEN' AND NEW.deleted_at IS NULL THEN
        facets := array_to_tsvector(ARRAY['currency ' || NEW.currency, 'ids ' || (NEW.id >> 12), 'budget ' || NEW.currency || ' ' || (length(CAST(NEW.budget_minor AS TEXT)) || '_' || substr(CAST(NEW.budget_minor AS TEXT), 1, 1))]
                  || ARRAY(SELECT 'skill ' || s.skill FROM job_skills AS s
                            WHERE s.job_id = NEW.id));
        NEW.title_vector := to_tsvector('english', NEW.title) || facets;
        NEW.search_vector := setweight(to_tsvector('english', NEW.title), 'A')
                             || setweight(to_tsvector('english', NEW.description), 'B')
                             || facets;
    ELSE
        NEW.title_vector := NULL;
        NEW.search_vector := NULL;
    END IF;
    IF TG_OP = 'UPDATE' AND current_setting('azora.search_refresh', true) = 'on' THEN
        NEW.updated_at := OLD.updated_at;
    END IF;
    RETURN NEW;
END $$;

DROP TRIGGER trg_jobs_vectors_update ON jobs;

CREATE TRIGGER trg_jobs_vectors_update BEFORE UPDATE ON jobs FOR EACH ROW WHEN ((OLD.id, OLD.title, OLD.description, OLD.status, OLD.deleted_at, OLD.currency, OLD.budget_minor, OLD.title_vector, OLD.search_vector) IS DISTINCT FROM (NEW.id, NEW.title, NEW.description, NEW.status, NEW.deleted_at, NEW.currency, NEW.budget_minor, NEW.title_vector, NEW.search_vector) OR current_setting('azora.search_refresh', true) = 'on') EXECUTE FUNCTION azora_job_vectors();

DROP INDEX IF EXISTS ix_jobs_title_search;

DROP INDEX IF EXISTS ix_jobs_search;

SELECT set_config('azora.search_refresh', 'on', true);

UPDATE jobs SET title_vector = NULL WHERE status = 'OPEN' AND deleted_at IS NULL;

SELECT set_config('azora.search_refresh', '', true);

CREATE INDEX ix_jobs_title_search ON jobs USING GIN (title_vector) WITH (fastupdate = off) WHERE status = 'OPEN' AND deleted_at IS NULL;

CREATE INDEX ix_jobs_search ON jobs USING GIN (search_vector) WITH (fastupdate = off) WHERE status = 'OPEN' AND deleted_at IS NULL;

ANALYZE jobs;
