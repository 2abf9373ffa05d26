-- 0012_search_facets (up, sqlite): frozen; never edit, add a migration.

DROP TRIGGER IF EXISTS trg_jobs_fts_insert;

DROP TRIGGER IF EXISTS trg_jobs_fts_delete;

DROP TRIGGER IF EXISTS trg_jobs_fts_update;

DROP TRIGGER IF EXISTS trg_job_skills_fts_insert;

DROP TRIGGER IF EXISTS trg_job_skills_fts_delete;

DROP TRIGGER IF EXISTS trg_job_skills_fts_update;

DROP TABLE IF EXISTS jobs_fts;

DROP VIEW IF EXISTS jobs_search_source;

DROP INDEX IF EXISTS ix_jobs_search_rid;

CREATE VIEW jobs_search_source AS
SELECT j.id AS id, j.title AS title,
       j.description AS description, COALESCE((SELECT group_concat(t, ' ') FROM (SELECT 'sk_' || replace(replace(replace(replace(replace(replace(skill, ' ', '_'), '#', '_h'), '+', '_p'), '.', '_d'), '-', '_m'), '/', '_s') AS t FROM job_skills WHERE job_id = j.id ORDER BY 1)), '') || ' cu_' || j.currency || ' bu_' || (length(CAST(j.budget_minor AS TEXT)) || '_' || substr(CAST(j.budget_minor AS TEXT), 1, 1)) || ' cb_' || j.currency || '_' || (length(CAST(j.budget_minor AS TEXT)) || '_' || substr(CAST(j.budget_minor AS TEXT), 1, 1)) AS skills
FROM jobs AS j;

CREATE VIRTUAL TABLE jobs_fts USING fts5(title, description, skills, content='jobs_search_source', content_rowid='id', tokenize="porter unicode61 tokenchars '_'");

CREATE TRIGGER trg_jobs_fts_insert AFTER INSERT ON jobs WHEN NEW.status = 'OPEN' AND NEW.deleted_at IS NULL
BEGIN
    INSERT INTO jobs_fts(rowid, title, description, skills) VALUES (NEW.id, NEW.title, NEW.description, COALESCE((SELECT group_concat(t, ' ') FROM (SELECT 'sk_' || replace(replace(replace(replace(replace(replace(skill, ' ', '_'), '#', '_h'), '+', '_p'), '.', '_d'), '-', '_m'), '/', '_s') AS t FROM job_skills WHERE job_id = NEW.id ORDER BY 1)), '') || ' cu_' || NEW.currency || ' bu_' || (length(CAST(NEW.budget_minor AS TEXT)) || '_' || substr(CAST(NEW.budget_minor AS TEXT), 1, 1)) || ' cb_' || NEW.currency || '_' || (length(CAST(NEW.budget_minor AS TEXT)) || '_' || substr(CAST(NEW.budget_minor AS TEXT), 1, 1)));
END;

CREATE TRIGGER trg_jobs_fts_delete AFTER DELETE ON jobs WHEN OLD.status = 'OPEN' AND OLD.deleted_at IS NULL
BEGIN
    INSERT INTO jobs_fts(jobs_fts, rowid, title, description, skills) VALUES ('delete', OLD.id, OLD.title, OLD.description, COALESCE((SELECT group_concat(t, ' ') FROM (SELECT 'sk_' || replace(replace(replace(replace(replace(replace(skill, ' ', '_'), '#', '_h'), '+', '_p'), '.', '_d'), '-', '_m'), '/', '_s') AS t FROM job_skills WHERE job_id = OLD.id ORDER BY 1)), '') || ' cu_' || OLD.currency || ' bu_' || (length(CAST(OLD.budget_minor AS TEXT)) || '_' || substr(CAST(OLD.budget_minor AS TEXT), 1, 1)) || ' cb_' || OLD.currency || '_' || (length(CAST(OLD.budget_minor AS TEXT)) || '_' || substr(CAST(OLD.budget_minor AS TEXT), 1, 1)));
END;

CREATE TRIGGER trg_jobs_fts_update AFTER UPDATE OF title, description, status,
deleted_at, currency, budget_minor ON jobs
BEGIN
    INSERT INTO jobs_fts(jobs_fts, rowid, title, description, skills)
    SELECT 'delete', OLD.id, OLD.title, OLD.description, COALESCE((SELECT group_concat(t, ' ') FROM (SELECT 'sk_' || replace(replace(replace(replace(replace(replace(skill, ' ', '_'), '#', '_h'), '+', '_p'), '.', '_d'), '-', '_m'), '/', '_s') AS t FROM job_skills WHERE job_id = OLD.id ORDER BY 1)), '') || ' cu_' || OLD.currency || ' bu_' || (length(CAST(OLD.budget_minor AS TEXT)) || '_' || substr(CAST(OLD.budget_minor AS TEXT), 1, 1)) || ' cb_' || OLD.currency || '_' || (length(CAST(OLD.budget_minor AS TEXT)) || '_' || substr(CAST(OLD.budget_minor AS TEXT), 1, 1))
    WHERE OLD.status = 'OPEN' AND OLD.deleted_at IS NULL;
    INSERT INTO jobs_fts(rowid, title, description, skills)
    SELECT NEW.id, NEW.title, NEW.description, COALESCE((SELECT group_concat(t, ' ') FROM (SELECT 'sk_' || replace(replace(replace(replace(replace(replace(skill, ' ', '_'), '#', '_h'), '+', '_p'), '.', '_d'), '-', '_m'), '/', '_s') AS t FROM job_skills WHERE job_id = NEW.id ORDER BY 1)), '') || ' cu_' || NEW.currency || ' bu_' || (length(CAST(NEW.budget_minor AS TEXT)) || '_' || substr(CAST(NEW.budget_minor AS TEXT), 1, 1)) || ' cb_' || NEW.currency || '_' || (length(CAST(NEW.budget_minor AS TEXT)) || '_' || substr(CAST(NEW.budget_minor AS TEXT), 1, 1)) WHERE NEW.status = 'OPEN' AND NEW.deleted_at IS NULL;
END;

CREATE TRIGGER trg_job_skills_fts_insert AFTER INSERT ON job_skills
WHEN EXISTS (SELECT 1 FROM jobs AS j WHERE j.id = NEW.job_id AND j.status = 'OPEN' AND j.deleted_at IS NULL)
BEGIN
    INSERT INTO jobs_fts(jobs_fts, rowid, title, description, skills) SELECT 'delete', j.id, j.title, j.description, COALESCE((SELECT group_concat(t, ' ') FROM (SELECT 'sk_' || replace(replace(replace(replace(replace(replace(skill, ' ', '_'), '#', '_h'), '+', '_p'), '.', '_d'), '-', '_m'), '/', '_s') AS t FROM job_skills WHERE job_id = NEW.job_id AND skill <> NEW.skill ORDER BY 1)), '') || ' cu_' || j.currency || ' bu_' || (length(CAST(j.budget_minor AS TEXT)) || '_' || substr(CAST(j.budget_minor AS TEXT), 1, 1)) || ' cb_' || j.currency || '_' || (length(CAST(j.budget_minor AS TEXT)) || '_' || substr(CAST(j.budget_minor AS TEXT), 1, 1)) FROM jobs AS j WHERE j.id = NEW.job_id;
    INSERT INTO jobs_fts(rowid, title, description, skills) SELECT j.id, j.title, j.description, COALESCE((SELECT group_concat(t, ' ') FROM (SELECT 'sk_' || replace(replace(replace(replace(replace(replace(skill, ' ', '_'), '#', '_h'), '+', '_p'), '.', '_d'), '-', '_m'), '/', '_s') AS t FROM job_skills WHERE job_id = NEW.job_id ORDER BY 1)), '') || ' cu_' || j.currency || ' bu_' || (length(CAST(j.budget_minor AS TEXT)) || '_' || substr(CAST(j.budget_minor AS TEXT), 1, 1)) || ' cb_' || j.currency || '_' || (length(CAST(j.budget_minor AS TEXT)) || '_' || substr(CAST(j.budget_minor AS TEXT), 1, 1)) FROM jobs AS j WHERE j.id = NEW.job_id;
END;

CREATE TRIGGER trg_job_skills_fts_delete AFTER DELETE ON job_skills
WHEN EXISTS (SELECT 1 FROM jobs AS j WHERE j.id = OLD.job_id AND j.status = 'OPEN' AND j.deleted_at IS NULL)
BEGIN
    INSERT INTO jobs_fts(jobs_fts, rowid, title, description, skills) SELECT 'delete', j.id, j.title, j.description, COALESCE((SELECT group_concat(t, ' ') FROM (SELECT 'sk_' || replace(replace(replace(replace(replace(replace(skill, ' ', '_'), '#', '_h'), '+', '_p'), '.', '_d'), '-', '_m'), '/', '_s') AS t FROM job_skills WHERE job_id = OLD.job_id UNION ALL SELECT 'sk_' || replace(replace(replace(replace(replace(replace(OLD.skill, ' ', '_'), '#', '_h'), '+', '_p'), '.', '_d'), '-', '_m'), '/', '_s') ORDER BY 1)), '') || ' cu_' || j.currency || ' bu_' || (length(CAST(j.budget_minor AS TEXT)) || '_' || substr(CAST(j.budget_minor AS TEXT), 1, 1)) || ' cb_' || j.currency || '_' || (length(CAST(j.budget_minor AS TEXT)) || '_' || substr(CAST(j.budget_minor AS TEXT), 1, 1)) FROM jobs AS j WHERE j.id = OLD.job_id;
    INSERT INTO jobs_fts(rowid, title, description, skills) SELECT j.id, j.title, j.description, COALESCE((SELECT group_concat(t, ' ') FROM (SELECT 'sk_' || replace(replace(replace(replace(replace(replace(skill, ' ', '_'), '#', '_h'), '+', '_p'), '.', '_d'), '-', '_m'), '/', '_s') AS t FROM job_skills WHERE job_id = OLD.job_id ORDER BY 1)), '') || ' cu_' || j.currency || ' bu_' || (length(CAST(j.budget_minor AS TEXT)) || '_' || substr(CAST(j.budget_minor AS TEXT), 1, 1)) || ' cb_' || j.currency || '_' || (length(CAST(j.budget_minor AS TEXT)) || '_' || substr(CAST(j.budget_minor AS TEXT), 1, 1)) FROM jobs AS j WHERE j.id = OLD.job_id;
END;

CREATE TRIGGER trg_job_skills_fts_update AFTER UPDATE OF skill ON job_skills
WHEN EXISTS (SELECT 1 FROM jobs AS j WHERE j.id = NEW.job_id AND j.status = 'OPEN' AND j.deleted_at IS NULL)
BEGIN
    INSERT INTO jobs_fts(jobs_fts, rowid, title, description, skills) SELECT 'delete', j.id, j.title, j.description, COALESCE((SELECT group_concat(t, ' ') FROM (SELECT 'sk_' || replace(replace(replace(replace(replace(replace(skill, ' ', '_'), '#', '_h'), '+', '_p'), '.', '_d'), '-', '_m'), '/', '_s') AS t FROM job_skills WHERE job_id = NEW.job_id AND skill <> NEW.skill UNION ALL SELECT 'sk_' || replace(replace(replace(replace(replace(replace(OLD.skill, ' ', '_'), '#', '_h'), '+', '_p'), '.', '_d'), '-', '_m'), '/', '_s') ORDER BY 1)), '') || ' cu_' || j.currency || ' bu_' || (length(CAST(j.budget_minor AS TEXT)) || '_' || substr(CAST(j.budget_minor AS TEXT), 1, 1)) || ' cb_' || j.currency || '_' || (length(CAST(j.budget_minor AS TEXT)) || '_' || substr(CAST(j.budget_minor AS TEXT), 1, 1)) FROM jobs AS j WHERE j.id = NEW.job_id;
    INSERT INTO jobs_fts(rowid, title, description, skills) SELECT j.id, j.title, j.description, COALESCE((SELECT group_concat(t, ' ') FROM (SELECT 'sk_' || replace(replace(replace(replace(replace(replace(skill, ' ', '_'), '#', '_h'), '+', '_p'), '.', '_d'), '-', '_m'), '/', '_s') AS t FROM job_skills WHERE job_id = NEW.job_id ORDER BY 1)), '') || ' cu_' || j.currency || ' bu_' || (length(CAST(j.budget_minor AS TEXT)) || '_' || substr(CAST(j.budget_minor AS TEXT), 1, 1)) || ' cb_' || j.currency || '_' || (length(CAST(j.budget_minor AS TEXT)) || '_' || substr(CAST(j.budget_minor AS TEXT), 1, 1)) FROM jobs AS j WHERE j.id = NEW.job_id;
END;

INSERT INTO jobs_fts(rowid, title, description, skills) SELECT s.id, s.title, s.description, s.skills FROM jobs_search_source AS s JOIN jobs AS j ON j.id = s.id WHERE j.status = 'OPEN' AND j.deleted_at IS NULL ORDER BY s.id;

INSERT INTO jobs_fts(jobs_fts) VALUES ('optimize');
