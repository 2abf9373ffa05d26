-- 0005_job_search (up, sqlite): frozen; never edit, add a migration.

CREATE VIEW jobs_search_source AS
SELECT j.id AS id, j.title AS title,
       j.description AS description, COALESCE((SELECT group_concat(t, ' ') FROM (SELECT 'sk_' || replace(replace(replace(replace(replace(replace(skill, ' ', '_'), '#', '_h'), '+', '_p'), '.', '_d'), '-', '_m'), '/', '_s') AS t FROM job_skills WHERE job_id = j.id ORDER BY 1)), '') AS skills
FROM jobs AS j;

CREATE VIRTUAL TABLE jobs_fts USING fts5(title, description, skills, content='jobs_search_source', content_rowid='id', tokenize="porter unicode61 tokenchars '_'");

CREATE TRIGGER trg_jobs_fts_insert AFTER INSERT ON jobs WHEN NEW.status = 'OPEN' AND NEW.deleted_at IS NULL
BEGIN
    INSERT INTO jobs_fts(rowid, title, description, skills) VALUES (NEW.id, NEW.title, NEW.description, COALESCE((SELECT group_concat(t, ' ') FROM (SELECT 'sk_' || replace(replace(replace(replace(replace(replace(skill, ' ', '_'), '#', '_h'), '+', '_p'), '.', '_d'), '-', '_m'), '/', '_s') AS t FROM job_skills WHERE job_id = NEW.id ORDER BY 1)), ''));
END;

CREATE TRIGGER trg_jobs_fts_delete AFTER DELETE ON jobs WHEN OLD.status = 'OPEN' AND OLD.deleted_at IS NULL
BEGIN
    INSERT INTO jobs_fts(jobs_fts, rowid, title, description, skills) VALUES ('delete', OLD.id, OLD.title, OLD.description, COALESCE((SELECT group_concat(t, ' ') FROM (SELECT 'sk_' || replace(replace(replace(replace(replace(replace(skill, ' ', '_'), '#', '_h'), '+', '_p'), '.', '_d'), '-', '_m'), '/', '_s') AS t FROM job_skills WHERE job_id = OLD.id ORDER BY 1)), ''));
END;

CREATE TRIGGER trg_jobs_fts_update AFTER UPDATE OF title, description, status,
deleted_at ON jobs
BEGIN
    INSERT INTO jobs_fts(jobs_fts, rowid, title, description, skills)
    SELECT 'delete', OLD.id, OLD.title, OLD.description, COALESCE((SELECT group_concat(t, ' ') FROM (SELECT 'sk_' || replace(replace(replace(replace(replace(replace(skill, ' ', '_'), '#', '_h'), '+', '_p'), '.', '_d'), '-', '_m'), '/', '_s') AS t FROM job_skills WHERE job_id = OLD.id ORDER BY 1)), '')
    WHERE OLD.status = 'OPEN' AND OLD.deleted_at IS NULL;
    INSERT INTO jobs_fts(rowid, title, description, skills)
    SELECT NEW.id, NEW.title, NEW.description, COALESCE((SELECT group_concat(t, ' ') FROM (SELECT 'sk_' || replace(replace(replace(replace(replace(replace(skill, ' ', '_'), '#', '_h'), '+', '_p'), '.', '_d'), '-', '_m'), '/', '_s') AS t FROM job_skills WHERE job_id = NEW.id ORDER BY 1)), '') WHERE NEW.status = 'OPEN' AND NEW.deleted_at IS NULL;
END;

CREATE TRIGGER trg_job_skills_fts_insert AFTER INSERT ON job_skills
WHEN EXISTS (SELECT 1 FROM jobs AS j WHERE j.id = NEW.job_id AND j.status = 'OPEN' AND j.deleted_at IS NULL)
BEGIN
    INSERT INTO jobs_fts(jobs_fts, rowid, title, description, skills) SELECT 'delete', j.id, j.title, j.description, COALESCE((SELECT group_concat(t, ' ') FROM (SELECT 'sk_' || replace(replace(replace(replace(replace(replace(skill, ' ', '_'), '#', '_h'), '+', '_p'), '.', '_d'), '-', '_m'), '/', '_s') AS t FROM job_skills WHERE job_id = NEW.job_id AND skill <> NEW.skill ORDER BY 1)), '') FROM jobs AS j WHERE j.id = NEW.job_id;
    INSERT INTO jobs_fts(rowid, title, description, skills) SELECT j.id, j.title, j.description, COALESCE((SELECT group_concat(t, ' ') FROM (SELECT 'sk_' || replace(replace(replace(replace(replace(replace(skill, ' ', '_'), '#', '_h'), '+', '_p'), '.', '_d'), '-', '_m'), '/', '_s') AS t FROM job_skills WHERE job_id = NEW.job_id ORDER BY 1)), '') FROM jobs AS j WHERE j.id = NEW.job_id;
END;

CREATE TRIGGER trg_job_skills_fts_delete AFTER DELETE ON job_skills
WHEN EXISTS (SELECT 1 FROM jobs AS j WHERE j.id = OLD.job_id AND j.status = 'OPEN' AND j.deleted_at IS NULL)
BEGIN
    INSERT INTO jobs_fts(jobs_fts, rowid, title, description, skills) SELECT 'delete', j.id, j.title, j.description, COALESCE((SELECT group_concat(t, ' ') FROM (SELECT 'sk_' || replace(replace(replace(replace(replace(replace(skill, ' ', '_'), '#', '_h'), '+', '_p'), '.', '_d'), '-', '_m'), '/', '_s') AS t FROM job_skills WHERE job_id = OLD.job_id UNION ALL SELECT 'sk_' || replace(replace(replace(replace(replace(replace(OLD.skill, ' ', '_'), '#', '_h'), '+', '_p'), '.', '_d'), '-', '_m'), '/', '_s') ORDER BY 1)), '') FROM jobs AS j WHERE j.id = OLD.job_id;
    INSERT INTO jobs_fts(rowid, title, description, skills) SELECT j.id, j.title, j.description, COALESCE((SELECT group_concat(t, ' ') FROM (SELECT 'sk_' || replace(replace(replace(replace(replace(replace(skill, ' ', '_'), '#', '_h'), '+', '_p'), '.', '_d'), '-', '_m'), '/', '_s') AS t FROM job_skills WHERE job_id = OLD.job_id ORDER BY 1)), '') FROM jobs AS j WHERE j.id = OLD.job_id;
END;

CREATE TRIGGER trg_job_skills_fts_update AFTER UPDATE OF skill ON job_skills
WHEN EXISTS (SELECT 1 FROM jobs AS j WHERE j.id = NEW.job_id AND j.status = 'OPEN' AND j.deleted_at IS NULL)
BEGIN
    INSERT INTO jobs_fts(jobs_fts, rowid, title, description, skills) SELECT 'delete', j.id, j.title, j.description, COALESCE((SELECT group_concat(t, ' ') FROM (SELECT 'sk_' || replace(replace(replace(replace(replace(replace(skill, ' ', '_'), '#', '_h'), '+', '_p'), '.', '_d'), '-', '_m'), '/', '_s') AS t FROM job_skills WHERE job_id = NEW.job_id AND skill <> NEW.skill UNION ALL SELECT 'sk_' || replace(replace(replace(replace(replace(replace(OLD.skill, ' ', '_'), '#', '_h'), '+', '_p'), '.', '_d'), '-', '_m'), '/', '_s') ORDER BY 1)), '') FROM jobs AS j WHERE j.id = NEW.job_id;
    INSERT INTO jobs_fts(rowid, title, description, skills) SELECT j.id, j.title, j.description, COALESCE((SELECT group_concat(t, ' ') FROM (SELECT 'sk_' || replace(replace(replace(replace(replace(replace(skill, ' ', '_'), '#', '_h'), '+', '_p'), '.', '_d'), '-', '_m'), '/', '_s') AS t FROM job_skills WHERE job_id = NEW.job_id ORDER BY 1)), '') FROM jobs AS j WHERE j.id = NEW.job_id;
END;

INSERT INTO jobs_fts(rowid, title, description, skills) SELECT s.id, s.title, s.description, s.skills FROM jobs_search_source AS s JOIN jobs AS j ON j.id = s.id WHERE j.status = 'OPEN' AND j.deleted_at IS NULL ORDER BY s.id;

INSERT INTO jobs_fts(jobs_fts) VALUES ('optimize');

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

CREATE TRIGGER trg_jobs_postings AFTER UPDATE OF status, deleted_at, budget_minor,
currency, created_at ON jobs
BEGIN
    UPDATE job_skills
       SET open_created_at = CASE WHEN NEW.status = 'OPEN' AND NEW.deleted_at IS NULL THEN NEW.created_at END,
           budget_minor = NEW.budget_minor, currency = NEW.currency
     WHERE job_id = NEW.id;
END;

UPDATE job_skills SET open_created_at = (SELECT CASE WHEN j.status = 'OPEN' AND j.deleted_at IS NULL THEN j.created_at END FROM jobs AS j WHERE j.id = job_skills.job_id), budget_minor = (SELECT budget_minor FROM jobs WHERE id = job_skills.job_id), currency = (SELECT currency FROM jobs WHERE id = job_skills.job_id);
