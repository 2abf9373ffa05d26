-- 0011_search_skills (up, postgresql): frozen; never edit, add a migration.

DROP INDEX ix_jobs_title_search;

DROP INDEX ix_jobs_search;

ALTER TABLE jobs ALTER COLUMN title_vector DROP EXPRESSION;

ALTER TABLE jobs ALTER COLUMN search_vector DROP EXPRESSION;

CREATE FUNCTION azora_job_vectors() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    facets tsvector;
BEGIN
    IF NEW.status = 'OPEN' AND NEW.deleted_at IS NULL THEN
        facets := array_to_tsvector(ARRAY['currency ' || NEW.currency, 'ids ' || (NEW.id >> 12)]
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

CREATE TRIGGER trg_jobs_vectors_insert BEFORE INSERT ON jobs FOR EACH ROW EXECUTE FUNCTION azora_job_vectors();

CREATE TRIGGER trg_jobs_vectors_update BEFORE UPDATE ON jobs FOR EACH ROW WHEN ((OLD.id, OLD.title, OLD.description, OLD.status, OLD.deleted_at, OLD.currency, OLD.title_vector, OLD.search_vector) IS DISTINCT FROM (NEW.id, NEW.title, NEW.description, NEW.status, NEW.deleted_at, NEW.currency, NEW.title_vector, NEW.search_vector) OR current_setting('azora.search_refresh', true) = 'on') EXECUTE FUNCTION azora_job_vectors();

CREATE FUNCTION azora_refresh_job_vectors() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM set_config('azora.search_refresh', 'on', true);
    IF TG_OP = 'INSERT' THEN
        UPDATE jobs SET title_vector = NULL WHERE status = 'OPEN' AND deleted_at IS NULL AND id IN (SELECT job_id FROM new_rows);
    ELSIF TG_OP = 'DELETE' THEN
        UPDATE jobs SET title_vector = NULL WHERE status = 'OPEN' AND deleted_at IS NULL AND id IN (SELECT job_id FROM old_rows);
    ELSIF TG_OP = 'UPDATE' THEN
        UPDATE jobs SET title_vector = NULL WHERE status = 'OPEN' AND deleted_at IS NULL AND id IN (SELECT job_id FROM ((SELECT job_id, skill FROM new_rows EXCEPT SELECT job_id, skill FROM old_rows) UNION ALL (SELECT job_id, skill FROM old_rows EXCEPT SELECT job_id, skill FROM new_rows)) AS changed);
    ELSE
        UPDATE jobs SET title_vector = NULL WHERE status = 'OPEN' AND deleted_at IS NULL;
    END IF;
    PERFORM set_config('azora.search_refresh', '', true);
    RETURN NULL;
END $$;

CREATE TRIGGER trg_job_skills_vectors_insert AFTER INSERT ON job_skills REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION azora_refresh_job_vectors();

CREATE TRIGGER trg_job_skills_vectors_delete AFTER DELETE ON job_skills REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION azora_refresh_job_vectors();

CREATE TRIGGER trg_job_skills_vectors_update AFTER UPDATE ON job_skills REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION azora_refresh_job_vectors();

CREATE TRIGGER trg_job_skills_vectors_truncate AFTER TRUNCATE ON job_skills FOR EACH STATEMENT EXECUTE FUNCTION azora_refresh_job_vectors();

DROP INDEX IF EXISTS ix_jobs_title_search;

DROP INDEX IF EXISTS ix_jobs_search;

SELECT set_config('azora.search_refresh', 'on', true);

UPDATE jobs SET title_vector = NULL WHERE status = 'OPEN' AND deleted_at IS NULL;

SELECT set_config('azora.search_refresh', '', true);

CREATE INDEX ix_jobs_title_search ON jobs USING GIN (title_vector) WITH (fastupdate = off) WHERE status = 'OPEN' AND deleted_at IS NULL;

CREATE INDEX ix_jobs_search ON jobs USING GIN (search_vector) WITH (fastupdate = off) WHERE status = 'OPEN' AND deleted_at IS NULL;

ANALYZE jobs;
