-- 0004_analytics_views (down, sqlite): frozen; never edit, add a migration.

DROP VIEW IF EXISTS ledger_postings;

DROP VIEW IF EXISTS user_stats;

DROP VIEW IF EXISTS job_analytics;
