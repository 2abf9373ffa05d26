-- 0002_updated_at_triggers (down, postgresql): frozen; never edit, add a migration.

DROP TRIGGER IF EXISTS trg_users_updated_at ON "users";

DROP TRIGGER IF EXISTS trg_courses_updated_at ON "courses";

DROP TRIGGER IF EXISTS trg_enrollments_updated_at ON "enrollments";

DROP TRIGGER IF EXISTS trg_jobs_updated_at ON "jobs";

DROP TRIGGER IF EXISTS trg_applications_updated_at ON "applications";

DROP TRIGGER IF EXISTS trg_escrows_updated_at ON "escrows";

DROP TRIGGER IF EXISTS trg_milestones_updated_at ON "milestones";

DROP TRIGGER IF EXISTS trg_skill_verifications_updated_at ON "skill_verifications";

DROP TRIGGER IF EXISTS trg_disputes_updated_at ON "disputes";

DROP TRIGGER IF EXISTS trg_accounts_updated_at ON "accounts";

DROP TRIGGER IF EXISTS trg_kyc_verifications_updated_at ON "kyc_verifications";

DROP FUNCTION IF EXISTS azora_set_updated_at();
