-- 0002_updated_at_triggers (down, sqlite): frozen; never edit, add a migration.

DROP TRIGGER IF EXISTS trg_users_updated_at;

DROP TRIGGER IF EXISTS trg_courses_updated_at;

DROP TRIGGER IF EXISTS trg_enrollments_updated_at;

DROP TRIGGER IF EXISTS trg_jobs_updated_at;

DROP TRIGGER IF EXISTS trg_applications_updated_at;

DROP TRIGGER IF EXISTS trg_escrows_updated_at;

DROP TRIGGER IF EXISTS trg_milestones_updated_at;

DROP TRIGGER IF EXISTS trg_skill_verifications_updated_at;

DROP TRIGGER IF EXISTS trg_disputes_updated_at;

DROP TRIGGER IF EXISTS trg_accounts_updated_at;

DROP TRIGGER IF EXISTS trg_kyc_verifications_updated_at;
