-- 0017_user_counters (PostgreSQL): the triggers that keep user_counters equal
-- to the user_stats view, in the same transaction as each change, then the
-- backfill of the users already there. The table itself is created by the
-- migration's frozen model. Triggers first: CREATE TRIGGER locks each table
-- against writes until the migration commits, so the backfill's snapshot
-- misses no change.

CREATE FUNCTION azora_count_user_users() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO user_counters (user_id, active, enrollments, courses_completed,
                                   jobs_posted, jobs_completed, applications,
                                   reviews_received, rating_sum, earnings)
        VALUES (NEW.id, NEW.deleted_at IS NULL, 0, 0, 0, 0, 0, 0, 0, '{}');
    ELSIF TG_OP = 'UPDATE' THEN
        UPDATE user_counters SET active = NEW.deleted_at IS NULL WHERE user_id = NEW.id;
    ELSE
        DELETE FROM user_counters WHERE user_id = OLD.id;
    END IF;
    RETURN NULL;
END $$;

CREATE TRIGGER trg_user_counters_users AFTER INSERT OR DELETE ON users
FOR EACH ROW EXECUTE FUNCTION azora_count_user_users();

CREATE TRIGGER trg_user_counters_users_update AFTER UPDATE OF deleted_at ON users
FOR EACH ROW WHEN ((OLD.deleted_at IS NULL) <> (NEW.deleted_at IS NULL))
EXECUTE FUNCTION azora_count_user_users();

CREATE FUNCTION azora_count_user_enrollments() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP <> 'INSERT' THEN
        UPDATE user_counters
           SET enrollments = enrollments - 1,
               courses_completed = courses_completed - (OLD.status = 'COMPLETED')::int
         WHERE user_id = OLD.user_id;
    END IF;
    IF TG_OP <> 'DELETE' THEN
        UPDATE user_counters
           SET enrollments = enrollments + 1,
               courses_completed = courses_completed + (NEW.status = 'COMPLETED')::int
         WHERE user_id = NEW.user_id;
    END IF;
    RETURN NULL;
END $$;

CREATE TRIGGER trg_user_counters_enrollments AFTER INSERT OR DELETE ON enrollments
FOR EACH ROW EXECUTE FUNCTION azora_count_user_enrollments();

CREATE TRIGGER trg_user_counters_enrollments_update AFTER UPDATE OF user_id, status
ON enrollments FOR EACH ROW
WHEN (OLD.user_id IS DISTINCT FROM NEW.user_id
      OR (OLD.status = 'COMPLETED') IS DISTINCT FROM (NEW.status = 'COMPLETED'))
EXECUTE FUNCTION azora_count_user_enrollments();

CREATE FUNCTION azora_count_user_jobs() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP <> 'INSERT' THEN
        IF OLD.deleted_at IS NULL THEN
            UPDATE user_counters SET jobs_posted = jobs_posted - 1 WHERE user_id = OLD.client_id;
        END IF;
        IF OLD.status = 'COMPLETED' THEN
            UPDATE user_counters SET jobs_completed = jobs_completed - 1
             WHERE user_id = OLD.freelancer_id;
        END IF;
    END IF;
    IF TG_OP <> 'DELETE' THEN
        IF NEW.deleted_at IS NULL THEN
            UPDATE user_counters SET jobs_posted = jobs_posted + 1 WHERE user_id = NEW.client_id;
        END IF;
        IF NEW.status = 'COMPLETED' THEN
            UPDATE user_counters SET jobs_completed = jobs_completed + 1
             WHERE user_id = NEW.freelancer_id;
        END IF;
    END IF;
    RETURN NULL;
END $$;

CREATE TRIGGER trg_user_counters_jobs AFTER INSERT OR DELETE ON jobs
FOR EACH ROW EXECUTE FUNCTION azora_count_user_jobs();

CREATE TRIGGER trg_user_counters_jobs_update AFTER UPDATE OF client_id, deleted_at,
freelancer_id, status ON jobs FOR EACH ROW
WHEN ((OLD.deleted_at IS NULL) <> (NEW.deleted_at IS NULL)
      OR (OLD.client_id IS DISTINCT FROM NEW.client_id AND NEW.deleted_at IS NULL)
      OR (OLD.status = 'COMPLETED') IS DISTINCT FROM (NEW.status = 'COMPLETED')
      OR (OLD.freelancer_id IS DISTINCT FROM NEW.freelancer_id AND NEW.status = 'COMPLETED'))
EXECUTE FUNCTION azora_count_user_jobs();

CREATE FUNCTION azora_count_user_applications() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP <> 'INSERT' THEN
        UPDATE user_counters SET applications = applications - 1
         WHERE user_id = OLD.freelancer_id;
    END IF;
    IF TG_OP <> 'DELETE' THEN
        UPDATE user_counters SET applications = applications + 1
         WHERE user_id = NEW.freelancer_id;
    END IF;
    RETURN NULL;
END $$;

CREATE TRIGGER trg_user_counters_applications AFTER INSERT OR DELETE ON applications
FOR EACH ROW EXECUTE FUNCTION azora_count_user_applications();

CREATE TRIGGER trg_user_counters_applications_update AFTER UPDATE OF freelancer_id
ON applications FOR EACH ROW WHEN (OLD.freelancer_id IS DISTINCT FROM NEW.freelancer_id)
EXECUTE FUNCTION azora_count_user_applications();

CREATE FUNCTION azora_count_user_reviews() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP <> 'INSERT' THEN
        UPDATE user_counters
           SET reviews_received = reviews_received - 1, rating_sum = rating_sum - OLD.rating
         WHERE user_id = OLD.reviewee_id;
    END IF;
    IF TG_OP <> 'DELETE' THEN
        UPDATE user_counters
           SET reviews_received = reviews_received + 1, rating_sum = rating_sum + NEW.rating
         WHERE user_id = NEW.reviewee_id;
    END IF;
    RETURN NULL;
END $$;

CREATE TRIGGER trg_user_counters_reviews AFTER INSERT OR DELETE ON reviews
FOR EACH ROW EXECUTE FUNCTION azora_count_user_reviews();

CREATE TRIGGER trg_user_counters_reviews_update AFTER UPDATE OF reviewee_id, rating
ON reviews FOR EACH ROW
WHEN (OLD.reviewee_id IS DISTINCT FROM NEW.reviewee_id OR OLD.rating IS DISTINCT FROM NEW.rating)
EXECUTE FUNCTION azora_count_user_reviews();

-- Transfers are append-only (0003): a release only ever adds to a wallet
-- owner's earnings, in the wallet's currency (as the view counts them).
CREATE FUNCTION azora_count_user_release() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    owner integer;
    code text;
BEGIN
    SELECT owner_id, currency INTO owner, code FROM accounts
     WHERE id = NEW.to_account_id AND kind = 'WALLET';
    IF owner IS NOT NULL THEN
        UPDATE user_counters
           SET earnings = (earnings::jsonb || jsonb_build_object(code,
                   COALESCE((earnings::jsonb ->> code)::bigint, 0) + NEW.amount_minor))::text
         WHERE user_id = owner;
    END IF;
    RETURN NULL;
END $$;

CREATE TRIGGER trg_user_counters_transfers AFTER INSERT ON transfers
FOR EACH ROW WHEN (NEW.kind = 'ESCROW_RELEASE')
EXECUTE FUNCTION azora_count_user_release();

-- An account that changes owner, kind or currency (raw SQL only) moves its
-- releases: the owners' earnings are recomputed as the view computes them.
CREATE FUNCTION azora_count_user_account() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE user_counters
       SET earnings = COALESCE((
           SELECT json_object_agg(w.currency, w.total) FROM (
               SELECT a.currency AS currency, SUM(t.amount_minor) AS total
                 FROM accounts a JOIN transfers t ON t.to_account_id = a.id
                WHERE a.owner_id = user_counters.user_id AND a.kind = 'WALLET'
                  AND t.kind = 'ESCROW_RELEASE'
                GROUP BY a.currency) AS w)::text, '{}')
     WHERE user_id = OLD.owner_id
        OR (TG_OP = 'UPDATE' AND user_id = NEW.owner_id);
    RETURN NULL;
END $$;

CREATE TRIGGER trg_user_counters_accounts_delete AFTER DELETE ON accounts
FOR EACH ROW EXECUTE FUNCTION azora_count_user_account();

CREATE TRIGGER trg_user_counters_accounts_update AFTER UPDATE OF owner_id, kind, currency
ON accounts FOR EACH ROW
WHEN (OLD.owner_id IS DISTINCT FROM NEW.owner_id OR OLD.kind IS DISTINCT FROM NEW.kind
      OR OLD.currency IS DISTINCT FROM NEW.currency)
EXECUTE FUNCTION azora_count_user_account();

-- Backfill: one row per user, deleted ones included (inactive).
INSERT INTO user_counters (user_id, active, enrollments, courses_completed, jobs_posted,
                           jobs_completed, applications, reviews_received, rating_sum, earnings)
SELECT u.id, u.deleted_at IS NULL,
       COALESCE(e.enrollments, 0), COALESCE(e.completed, 0), COALESCE(p.posted, 0),
       COALESCE(c.completed, 0), COALESCE(a.applications, 0), COALESCE(r.reviews, 0),
       COALESCE(r.rating_sum, 0), COALESCE(w.earnings, '{}')
  FROM users u
  LEFT JOIN (SELECT user_id, COUNT(*) AS enrollments,
                    COUNT(*) FILTER (WHERE status = 'COMPLETED') AS completed
               FROM enrollments GROUP BY user_id) AS e ON e.user_id = u.id
  LEFT JOIN (SELECT client_id, COUNT(*) AS posted FROM jobs
              WHERE deleted_at IS NULL GROUP BY client_id) AS p ON p.client_id = u.id
  LEFT JOIN (SELECT freelancer_id, COUNT(*) AS completed FROM jobs
              WHERE status = 'COMPLETED' AND freelancer_id IS NOT NULL
              GROUP BY freelancer_id) AS c ON c.freelancer_id = u.id
  LEFT JOIN (SELECT freelancer_id, COUNT(*) AS applications FROM applications
              GROUP BY freelancer_id) AS a ON a.freelancer_id = u.id
  LEFT JOIN (SELECT reviewee_id, COUNT(*) AS reviews, SUM(rating) AS rating_sum FROM reviews
              GROUP BY reviewee_id) AS r ON r.reviewee_id = u.id
  LEFT JOIN (SELECT owner_id, json_object_agg(currency, total)::text AS earnings FROM (
                 SELECT a.owner_id AS owner_id, a.currency AS currency,
                        SUM(t.amount_minor) AS total
                   FROM accounts a JOIN transfers t ON t.to_account_id = a.id
                  WHERE a.kind = 'WALLET' AND t.kind = 'ESCROW_RELEASE'
                  GROUP BY a.owner_id, a.currency) AS o
              GROUP BY owner_id) AS w ON w.owner_id = u.id
 ORDER BY u.id;
