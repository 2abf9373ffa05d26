-- 0004_analytics_views (up, postgresql): frozen; never edit, add a migration.

CREATE VIEW job_analytics AS
SELECT day, currency,
       SUM(created) AS jobs_created,
       SUM(completed) AS jobs_completed,
       SUM(cancelled) AS jobs_cancelled,
       SUM(budget_created) AS budget_created_minor,
       SUM(budget_completed) AS budget_completed_minor
FROM (
    SELECT (created_at)::date AS day, currency, 1 AS created, 0 AS completed, 0 AS cancelled,
           budget_minor AS budget_created, 0 AS budget_completed
    FROM jobs WHERE deleted_at IS NULL
    UNION ALL
    SELECT (closed_at)::date, currency, 0, 1, 0, 0, budget_minor
    FROM jobs WHERE status = 'COMPLETED' AND closed_at IS NOT NULL AND deleted_at IS NULL
    UNION ALL
    SELECT (closed_at)::date, currency, 0, 0, 1, 0, 0
    FROM jobs WHERE status = 'CANCELLED' AND closed_at IS NOT NULL AND deleted_at IS NULL
) AS events
GROUP BY day, currency;

CREATE VIEW user_stats AS
SELECT u.id AS user_id,
       (SELECT COUNT(*) FROM enrollments e WHERE e.user_id = u.id) AS enrollments,
       (SELECT COUNT(*) FROM enrollments e
         WHERE e.user_id = u.id AND e.status = 'COMPLETED') AS courses_completed,
       (SELECT COUNT(*) FROM jobs j
         WHERE j.client_id = u.id AND j.deleted_at IS NULL) AS jobs_posted,
       (SELECT COUNT(*) FROM jobs j
         WHERE j.freelancer_id = u.id AND j.status = 'COMPLETED') AS jobs_completed,
       (SELECT COUNT(*) FROM applications a WHERE a.freelancer_id = u.id) AS applications,
       (SELECT COUNT(*) FROM reviews r WHERE r.reviewee_id = u.id) AS reviews_received,
       (SELECT ROUND(AVG(r.rating), 2) FROM reviews r
         WHERE r.reviewee_id = u.id) AS average_rating,
       COALESCE((SELECT json_object_agg(w.currency, w.total)::text FROM (
           SELECT a.currency AS currency, SUM(t.amount_minor) AS total
           FROM accounts a JOIN transfers t ON t.to_account_id = a.id
           WHERE a.owner_id = u.id AND a.kind = 'WALLET' AND t.kind = 'ESCROW_RELEASE'
           GROUP BY a.currency) AS w), '{}') AS earnings
FROM users u
WHERE u.deleted_at IS NULL;

CREATE VIEW ledger_postings AS
SELECT t.transaction_id, t.id AS transfer_id, t.from_account_id AS account_id,
       -t.amount_minor AS amount_minor, t.currency
FROM transfers t
UNION ALL
SELECT t.transaction_id, t.id, t.to_account_id, t.amount_minor, t.currency
FROM transfers t;
