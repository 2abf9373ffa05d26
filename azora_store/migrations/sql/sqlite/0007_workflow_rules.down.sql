-- 0007_workflow_rules (down, sqlite): frozen; never edit, add a migration.

DROP TRIGGER IF EXISTS trg_milestones_budget_insert;

DROP TRIGGER IF EXISTS trg_milestones_budget_update;

DROP TRIGGER IF EXISTS trg_jobs_transition;

DROP TRIGGER IF EXISTS trg_applications_transition;

DROP TRIGGER IF EXISTS trg_escrows_transition;

DROP TRIGGER IF EXISTS trg_milestones_transition;

DROP TRIGGER IF EXISTS trg_disputes_transition;

DROP TRIGGER IF EXISTS trg_kyc_verifications_transition;
