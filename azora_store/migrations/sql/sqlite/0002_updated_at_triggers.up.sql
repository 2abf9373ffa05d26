-- 0002_updated_at_triggers (up, sqlite): frozen; never edit, add a migration.

CREATE TRIGGER trg_users_updated_at AFTER UPDATE ON "users"
FOR EACH ROW WHEN NEW.updated_at IS OLD.updated_at
BEGIN
    UPDATE "users" SET updated_at = strftime('%Y-%m-%d %H:%M:%f', 'now') WHERE rowid = NEW.rowid;
END;

CREATE TRIGGER trg_courses_updated_at AFTER UPDATE ON "courses"
FOR EACH ROW WHEN NEW.updated_at IS OLD.updated_at
BEGIN
    UPDATE "courses" SET updated_at = strftime('%Y-%m-%d %H:%M:%f', 'now') WHERE rowid = NEW.rowid;
END;

CREATE TRIGGER trg_enrollments_updated_at AFTER UPDATE ON "enrollments"
FOR EACH ROW WHEN NEW.updated_at IS OLD.updated_at
BEGIN
    UPDATE "enrollments" SET updated_at = strftime('%Y-%m-%d %H:%M:%f', 'now') WHERE rowid = NEW.rowid;
END;

CREATE TRIGGER trg_jobs_updated_at AFTER UPDATE ON "jobs"
FOR EACH ROW WHEN NEW.updated_at IS OLD.updated_at
BEGIN
    UPDATE "jobs" SET updated_at = strftime('%Y-%m-%d %H:%M:%f', 'now') WHERE rowid = NEW.rowid;
END;

CREATE TRIGGER trg_applications_updated_at AFTER UPDATE ON "applications"
FOR EACH ROW WHEN NEW.updated_at IS OLD.updated_at
BEGIN
    UPDATE "applications" SET updated_at = strftime('%Y-%m-%d %H:%M:%f', 'now') WHERE rowid = NEW.rowid;
END;

CREATE TRIGGER trg_escrows_updated_at AFTER UPDATE ON "escrows"
FOR EACH ROW WHEN NEW.updated_at IS OLD.updated_at
BEGIN
    UPDATE "escrows" SET updated_at = strftime('%Y-%m-%d %H:%M:%f', 'now') WHERE rowid = NEW.rowid;
END;

CREATE TRIGGER trg_milestones_updated_at AFTER UPDATE ON "milestones"
FOR EACH ROW WHEN NEW.updated_at IS OLD.updated_at
BEGIN
    UPDATE "milestones" SET updated_at = strftime('%Y-%m-%d %H:%M:%f', 'now') WHERE rowid = NEW.rowid;
END;

CREATE TRIGGER trg_skill_verifications_updated_at AFTER UPDATE ON "skill_verifications"
FOR EACH ROW WHEN NEW.updated_at IS OLD.updated_at
BEGIN
    UPDATE "skill_verifications" SET updated_at = strftime('%Y-%m-%d %H:%M:%f', 'now') WHERE rowid = NEW.rowid;
END;

CREATE TRIGGER trg_disputes_updated_at AFTER UPDATE ON "disputes"
FOR EACH ROW WHEN NEW.updated_at IS OLD.updated_at
BEGIN
    UPDATE "disputes" SET updated_at = strftime('%Y-%m-%d %H:%M:%f', 'now') WHERE rowid = NEW.rowid;
END;

CREATE TRIGGER trg_accounts_updated_at AFTER UPDATE ON "accounts"
FOR EACH ROW WHEN NEW.updated_at IS OLD.updated_at
BEGIN
    UPDATE "accounts" SET updated_at = strftime('%Y-%m-%d %H:%M:%f', 'now') WHERE rowid = NEW.rowid;
END;

CREATE TRIGGER trg_kyc_verifications_updated_at AFTER UPDATE ON "kyc_verifications"
FOR EACH ROW WHEN NEW.updated_at IS OLD.updated_at
BEGIN
    UPDATE "kyc_verifications" SET updated_at = strftime('%Y-%m-%d %H:%M:%f', 'now') WHERE rowid = NEW.rowid;
END;
