-- 0002_updated_at_triggers (up, postgresql): frozen; never edit, add a migration.

CREATE FUNCTION azora_set_updated_at() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    NEW.updated_at := (now() AT TIME ZONE 'UTC');
    RETURN NEW;
END $$;

CREATE TRIGGER trg_users_updated_at BEFORE UPDATE ON "users" FOR EACH ROW WHEN (NEW.updated_at IS NOT DISTINCT FROM OLD.updated_at) EXECUTE FUNCTION azora_set_updated_at();

CREATE TRIGGER trg_courses_updated_at BEFORE UPDATE ON "courses" FOR EACH ROW WHEN (NEW.updated_at IS NOT DISTINCT FROM OLD.updated_at) EXECUTE FUNCTION azora_set_updated_at();

CREATE TRIGGER trg_enrollments_updated_at BEFORE UPDATE ON "enrollments" FOR EACH ROW WHEN (NEW.updated_at IS NOT DISTINCT FROM OLD.updated_at) EXECUTE FUNCTION azora_set_updated_at();

CREATE TRIGGER trg_jobs_updated_at BEFORE UPDATE ON "jobs" FOR EACH ROW WHEN (NEW.updated_at IS NOT DISTINCT FROM OLD.updated_at) EXECUTE FUNCTION azora_set_updated_at();

CREATE TRIGGER trg_applications_updated_at BEFORE UPDATE ON "applications" FOR EACH ROW WHEN (NEW.updated_at IS NOT DISTINCT FROM OLD.updated_at) EXECUTE FUNCTION azora_set_updated_at();

CREATE TRIGGER trg_escrows_updated_at BEFORE UPDATE ON "escrows" FOR EACH ROW WHEN (NEW.updated_at IS NOT DISTINCT FROM OLD.updated_at) EXECUTE FUNCTION azora_set_updated_at();

CREATE TRIGGER trg_milestones_updated_at BEFORE UPDATE ON "milestones" FOR EACH ROW WHEN (NEW.updated_at IS NOT DISTINCT FROM OLD.updated_at) EXECUTE FUNCTION azora_set_updated_at();

CREATE TRIGGER trg_skill_verifications_updated_at BEFORE UPDATE ON "skill_verifications" FOR EACH ROW WHEN (NEW.updated_at IS NOT DISTINCT FROM OLD.updated_at) EXECUTE FUNCTION azora_set_updated_at();

CREATE TRIGGER trg_disputes_updated_at BEFORE UPDATE ON "disputes" FOR EACH ROW WHEN (NEW.updated_at IS NOT DISTINCT FROM OLD.updated_at) EXECUTE FUNCTION azora_set_updated_at();

CREATE TRIGGER trg_accounts_updated_at BEFORE UPDATE ON "accounts" FOR EACH ROW WHEN (NEW.updated_at IS NOT DISTINCT FROM OLD.updated_at) EXECUTE FUNCTION azora_set_updated_at();

CREATE TRIGGER trg_kyc_verifications_updated_at BEFORE UPDATE ON "kyc_verifications" FOR EACH ROW WHEN (NEW.updated_at IS NOT DISTINCT FROM OLD.updated_at) EXECUTE FUNCTION azora_set_updated_at();
