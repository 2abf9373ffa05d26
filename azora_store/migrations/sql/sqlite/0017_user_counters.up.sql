-- 0017_user_counters (SQLite): the triggers that keep user_counters equal to
-- the user_stats view, in the same transaction as each change, then the
-- backfill of the users already there. The table itself is created by the
-- migration's frozen model. Triggers first, backfill second: both run in the
-- migration's one write transaction.

CREATE TRIGGER trg_user_counters_users_insert AFTER INSERT ON users
BEGIN
    INSERT INTO user_counters (user_id, active, enrollments, courses_completed, jobs_posted,
                               jobs_completed, applications, reviews_received, rating_sum,
                               earnings)
    VALUES (NEW.id, NEW.deleted_at IS NULL, 0, 0, 0, 0, 0, 0, 0, '{}');
END;

CREATE TRIGGER trg_user_counters_users_update AFTER UPDATE OF deleted_at ON users
WHEN (OLD.deleted_at IS NULL) IS NOT (NEW.deleted_at IS NULL)
BEGIN
    UPDATE user_counters SET active = NEW.deleted_at IS NULL WHERE user_id = NEW.id;
END;

CREATE TRIGGER trg_user_counters_users_delete AFTER DELETE ON users
BEGIN
    DELETE FROM user_counters WHERE user_id = OLD.id;
END;

CREATE TRIGGER trg_user_counters_enrollments_insert AFTER INSERT ON enrollments
BEGIN
    UPDATE user_counters
       SET enrollments = enrollments + 1,
           courses_completed = courses_completed + (NEW.status = 'COMPLETED')
     WHERE user_id = NEW.user_id;
END;

CREATE TRIGGER trg_user_counters_enrollments_delete AFTER DELETE ON enrollments
BEGIN
    UPDATE user_counters
       SET enrollments = enrollments - 1,
           courses_completed = courses_completed - (OLD.status = 'COMPLETED')
     WHERE user_id = OLD.user_id;
END;

CREATE TRIGGER trg_user_counters_enrollments_update AFTER UPDATE OF user_id, status ON enrollments
WHEN OLD.user_id IS NOT NEW.user_id OR (OLD.status = 'COMPLETED') IS NOT (NEW.status = 'COMPLETED')
BEGIN
    UPDATE user_counters
       SET enrollments = enrollments - 1,
           courses_completed = courses_completed - (OLD.status = 'COMPLETED')
     WHERE user_id = OLD.user_id;
    UPDATE user_counters
       SET enrollments = enrollments + 1,
           courses_completed = courses_completed + (NEW.status = 'COMPLETED')
     WHERE user_id = NEW.user_id;
END;

CREATE TRIGGER trg_user_counters_jobs_insert AFTER INSERT ON jobs
BEGIN
    UPDATE user_counters SET jobs_posted = jobs_posted + 1
     WHERE user_id = NEW.client_id AND NEW.deleted_at IS NULL;
    UPDATE user_counters SET jobs_completed = jobs_completed + 1
     WHERE user_id = NEW.freelancer_id AND NEW.status = 'COMPLETED';
END;

CREATE TRIGGER trg_user_counters_jobs_delete AFTER DELETE ON jobs
BEGIN
    UPDATE user_counters SET jobs_posted = jobs_posted - 1
     WHERE user_id = OLD.client_id AND OLD.deleted_at IS NULL;
    UPDATE user_counters SET jobs_completed = jobs_completed - 1
     WHERE user_id = OLD.freelancer_id AND OLD.status = 'COMPLETED';
END;

CREATE TRIGGER trg_user_counters_jobs_posted AFTER UPDATE OF client_id, deleted_at ON jobs
WHEN (OLD.deleted_at IS NULL) IS NOT (NEW.deleted_at IS NULL)
  OR (OLD.client_id IS NOT NEW.client_id AND NEW.deleted_at IS NULL)
BEGIN
    UPDATE user_counters SET jobs_posted = jobs_posted - 1
     WHERE user_id = OLD.client_id AND OLD.deleted_at IS NULL;
    UPDATE user_counters SET jobs_posted = jobs_posted + 1
     WHERE user_id = NEW.client_id AND NEW.deleted_at IS NULL;
END;

CREATE TRIGGER trg_user_counters_jobs_completed AFTER UPDATE OF freelancer_id, status ON jobs
WHEN (OLD.status = 'COMPLETED') IS NOT (NEW.status = 'COMPLETED')
  OR (OLD.freelancer_id IS NOT NEW.freelancer_id AND NEW.status = 'COMPLETED')
BEGIN
    UPDATE user_counters SET jobs_completed = jobs_completed - 1
     WHERE user_id = OLD.freelancer_id AND OLD.status = 'COMPLETED';
    UPDATE user_counters SET jobs_completed = jobs_completed + 1
     WHERE user_id = NEW.freelancer_id AND NEW.status = 'COMPLETED';
END;

CREATE TRIGGER trg_user_counters_applications_insert AFTER INSERT ON applications
BEGIN
    UPDATE user_counters SET applications = applications + 1 WHERE user_id = NEW.freelancer_id;
END;

CREATE TRIGGER trg_user_counters_applications_delete AFTER DELETE ON applications
BEGIN
    UPDATE user_counters SET applications = applications - 1 WHERE user_id = OLD.freelancer_id;
END;

CREATE TRIGGER trg_user_counters_applications_update AFTER UPDATE OF freelancer_id ON applications
WHEN OLD.freelancer_id IS NOT NEW.freelancer_id
BEGIN
    UPDATE user_counters SET applications = applications - 1 WHERE user_id = OLD.freelancer_id;
    UPDATE user_counters SET applications = applications + 1 WHERE user_id = NEW.freelancer_id;
END;

CREATE TRIGGER trg_user_counters_reviews_insert AFTER INSERT ON reviews
BEGIN
    UPDATE user_counters
       SET reviews_received = reviews_received + 1, rating_sum = rating_sum + NEW.rating
     WHERE user_id = NEW.reviewee_id;
END;

CREATE TRIGGER trg_user_counters_reviews_delete AFTER DELETE ON reviews
BEGIN
    UPDATE user_counters
       SET reviews_received = reviews_received - 1, rating_sum = rating_sum - OLD.rating
     WHERE user_id = OLD.reviewee_id;
END;

CREATE TRIGGER trg_user_counters_reviews_update AFTER UPDATE OF reviewee_id, rating ON reviews
WHEN OLD.reviewee_id IS NOT NEW.reviewee_id OR OLD.rating IS NOT NEW.rating
BEGIN
    UPDATE user_counters
       SET reviews_received = reviews_received - 1, rating_sum = rating_sum - OLD.rating
     WHERE user_id = OLD.reviewee_id;
    UPDATE user_counters
       SET reviews_received = reviews_received + 1, rating_sum = rating_sum + NEW.rating
     WHERE user_id = NEW.reviewee_id;
END;

-- Transfers are append-only (0003): a release only ever adds to a wallet
-- owner's earnings, in the wallet's currency (as the view counts them).
CREATE TRIGGER trg_user_counters_transfers_insert AFTER INSERT ON transfers
WHEN NEW.kind = 'ESCROW_RELEASE'
BEGIN
    UPDATE user_counters
       SET earnings = json_set(earnings, '$.' || (SELECT currency FROM accounts
                                                   WHERE id = NEW.to_account_id),
                               COALESCE(json_extract(earnings, '$.' || (
                                   SELECT currency FROM accounts
                                    WHERE id = NEW.to_account_id)), 0) + NEW.amount_minor)
     WHERE user_id = (SELECT owner_id FROM accounts
                       WHERE id = NEW.to_account_id AND kind = 'WALLET');
END;

-- An account that changes owner, kind or currency (raw SQL only) moves its
-- releases: both owners' earnings are recomputed as the view computes them.
CREATE TRIGGER trg_user_counters_accounts_update AFTER UPDATE OF owner_id, kind, currency ON accounts
WHEN OLD.owner_id IS NOT NEW.owner_id OR OLD.kind IS NOT NEW.kind
  OR OLD.currency IS NOT NEW.currency
BEGIN
    UPDATE user_counters
       SET earnings = COALESCE((
           SELECT json_group_object(w.currency, w.total) FROM (
               SELECT a.currency AS currency, SUM(t.amount_minor) AS total
                 FROM accounts a JOIN transfers t ON t.to_account_id = a.id
                WHERE a.owner_id = user_counters.user_id AND a.kind = 'WALLET'
                  AND t.kind = 'ESCROW_RELEASE'
                GROUP BY a.currency) AS w), '{}')
     WHERE user_id IN (OLD.owner_id, NEW.owner_id);
END;

CREATE TRIGGER trg_user_counters_accounts_delete AFTER DELETE ON accounts
BEGIN
    UPDATE user_counters
       SET earnings = COALESCE((
           SELECT json_group_object(w.currency, w.total) FROM (
               SELECT a.currency AS currency, SUM(t.amount_minor) AS total
                 FROM accounts a JOIN transfers t ON t.to_account_id = a.id
                WHERE a.owner_id = user_counters.user_id AND a.kind = 'WALLET'
                  AND t.kind = 'ESCROW_RELEASE'
                GROUP BY a.currency) AS w), '{}')
     WHERE user_id = OLD.owner_id;
END;

-- Backfill: one row per user, deleted ones included (inactive).
INSERT INTO user_counters (user_id, active, enrollments, courses_completed, jobs_posted,
                           jobs_completed, applications, reviews_received, rating_sum, earnings)
SELECT u.id, u.deleted_at IS NULL,
       COALESCE(e.enrollments, 0), COALESCE(e.completed, 0), COALESCE(p.posted, 0),
       COALESCE(c.completed, 0), COALESCE(a.applications, 0), COALESCE(r.reviews, 0),
       COALESCE(r.rating_sum, 0), COALESCE(w.earnings, '{}')
  FROM users u
  LEFT JOIN (SELECT user_id, COUNT(*) AS enrollments,
                    SUM(status = 'COMPLETED') AS completed
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
  LEFT JOIN (SELECT owner_id, json_group_object(currency, total) AS earnings FROM (
                 SELECT a.owner_id AS owner_id, a.currency AS currency,
                        SUM(t.amount_minor) AS total
                   FROM accounts a JOIN transfers t ON t.to_account_id = a.id
                  WHERE a.kind = 'WALLET' AND t.kind = 'ESCROW_RELEASE'
                  GROUP BY a.owner_id, a.currency)
              GROUP BY owner_id) AS w ON w.owner_id = u.id
 ORDER BY u.id;
