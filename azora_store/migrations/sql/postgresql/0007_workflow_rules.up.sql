-- 0007_workflow_rules (up, postgresql): frozen; never edit, add a migration.

CREATE FUNCTION azora_check_transition() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.status = ANY (string_to_array(TG_ARGV[1], ','))
       AND NOT (OLD.status || '>' || NEW.status) = ANY (string_to_array(TG_ARGV[2], ',')) THEN
        RAISE EXCEPTION 'azora|invalid_transition|%|%|%', TG_ARGV[0], OLD.status, NEW.status;
    END IF;
    RETURN NEW;
END $$;

CREATE TRIGGER trg_jobs_transition BEFORE UPDATE OF status ON "jobs" FOR EACH ROW WHEN (OLD.status IS DISTINCT FROM NEW.status) EXECUTE FUNCTION azora_check_transition('Job', 'OPEN,IN_PROGRESS,COMPLETED,CANCELLED', 'CANCELLED>OPEN,IN_PROGRESS>CANCELLED,IN_PROGRESS>COMPLETED,OPEN>CANCELLED,OPEN>IN_PROGRESS');

CREATE TRIGGER trg_applications_transition BEFORE UPDATE OF status ON "applications" FOR EACH ROW WHEN (OLD.status IS DISTINCT FROM NEW.status) EXECUTE FUNCTION azora_check_transition('Application', 'PENDING,ACCEPTED,REJECTED,WITHDRAWN', 'PENDING>ACCEPTED,PENDING>REJECTED,PENDING>WITHDRAWN');

CREATE TRIGGER trg_escrows_transition BEFORE UPDATE OF status ON "escrows" FOR EACH ROW WHEN (OLD.status IS DISTINCT FROM NEW.status) EXECUTE FUNCTION azora_check_transition('Escrow', 'FUNDED,FROZEN,RELEASED,REFUNDED,SETTLED', 'FROZEN>REFUNDED,FROZEN>RELEASED,FROZEN>SETTLED,FUNDED>FROZEN,FUNDED>REFUNDED,FUNDED>RELEASED,FUNDED>SETTLED');

CREATE TRIGGER trg_milestones_transition BEFORE UPDATE OF status ON "milestones" FOR EACH ROW WHEN (OLD.status IS DISTINCT FROM NEW.status) EXECUTE FUNCTION azora_check_transition('Milestone', 'PENDING,SUBMITTED,RELEASED,CANCELLED', 'PENDING>CANCELLED,PENDING>SUBMITTED,SUBMITTED>CANCELLED,SUBMITTED>RELEASED');

CREATE TRIGGER trg_disputes_transition BEFORE UPDATE OF status ON "disputes" FOR EACH ROW WHEN (OLD.status IS DISTINCT FROM NEW.status) EXECUTE FUNCTION azora_check_transition('Dispute', 'OPEN,UNDER_REVIEW,RESOLVED_CLIENT,RESOLVED_FREELANCER,RESOLVED_SPLIT', 'OPEN>RESOLVED_CLIENT,OPEN>RESOLVED_FREELANCER,OPEN>RESOLVED_SPLIT,OPEN>UNDER_REVIEW,UNDER_REVIEW>RESOLVED_CLIENT,UNDER_REVIEW>RESOLVED_FREELANCER,UNDER_REVIEW>RESOLVED_SPLIT');

CREATE TRIGGER trg_kyc_verifications_transition BEFORE UPDATE OF status ON "kyc_verifications" FOR EACH ROW WHEN (OLD.status IS DISTINCT FROM NEW.status) EXECUTE FUNCTION azora_check_transition('KYC', 'PENDING,APPROVED,REJECTED,EXPIRED', 'APPROVED>EXPIRED,EXPIRED>PENDING,PENDING>APPROVED,PENDING>EXPIRED,PENDING>REJECTED,REJECTED>PENDING');

CREATE FUNCTION azora_check_milestone_budget() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    funded bigint;
BEGIN
    IF NEW.status = 'CANCELLED' THEN
        RETURN NEW;
    END IF;
    SELECT amount_minor INTO funded FROM escrows WHERE id = NEW.escrow_id FOR UPDATE;
    IF NEW.amount_minor + (SELECT COALESCE(SUM(amount_minor), 0) FROM milestones
                            WHERE escrow_id = NEW.escrow_id AND status <> 'CANCELLED'
                              AND id IS DISTINCT FROM NEW.id) > funded THEN
        RAISE EXCEPTION 'azora|validation|amount|Milestone amounts cannot add up to more than %',
            'their escrow was funded with';
    END IF;
    RETURN NEW;
END $$;

CREATE TRIGGER trg_milestones_budget BEFORE INSERT OR UPDATE OF amount_minor, escrow_id ON milestones FOR EACH ROW EXECUTE FUNCTION azora_check_milestone_budget();
