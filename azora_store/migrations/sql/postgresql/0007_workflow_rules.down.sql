-- 0007_workflow_rules (down, postgresql): frozen; never edit, add a migration.

DROP TRIGGER IF EXISTS trg_milestones_budget ON milestones;

DROP FUNCTION IF EXISTS azora_check_milestone_budget();

DROP TRIGGER IF EXISTS trg_jobs_transition ON "jobs";

DROP TRIGGER IF EXISTS trg_applications_transition ON "applications";

DROP TRIGGER IF EXISTS trg_escrows_transition ON "escrows";

DROP TRIGGER IF EXISTS trg_milestones_transition ON "milestones";

DROP TRIGGER IF EXISTS trg_disputes_transition ON "disputes";

DROP TRIGGER IF EXISTS trg_kyc_verifications_transition ON "kyc_verifications";

DROP FUNCTION IF EXISTS azora_check_transition();
