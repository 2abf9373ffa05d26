-- 0003_ledger_and_audit_triggers (up, postgresql): frozen; never edit, add a migration.

CREATE FUNCTION azora_apply_transfer() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    -- One statement for both accounts: rows are locked in index order, so two
    -- opposite transfers cannot deadlock on each other.
    UPDATE accounts
       SET balance_minor = balance_minor + CASE WHEN id = NEW.to_account_id
                                                THEN NEW.amount_minor
                                                ELSE -NEW.amount_minor END,
           updated_at = (now() AT TIME ZONE 'UTC')
     WHERE id IN (NEW.from_account_id, NEW.to_account_id);
    RETURN NULL;
END $$;

CREATE TRIGGER trg_transfers_apply AFTER INSERT ON transfers FOR EACH ROW EXECUTE FUNCTION azora_apply_transfer();

CREATE FUNCTION azora_refuse_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'azora|conflict||% is append-only: % is refused', TG_TABLE_NAME, TG_OP;
END $$;

CREATE TRIGGER trg_security_events_append_only BEFORE UPDATE OR DELETE ON "security_events" FOR EACH ROW EXECUTE FUNCTION azora_refuse_change();

CREATE TRIGGER trg_security_events_no_truncate BEFORE TRUNCATE ON "security_events" FOR EACH STATEMENT EXECUTE FUNCTION azora_refuse_change();

CREATE TRIGGER trg_transfers_append_only BEFORE UPDATE OR DELETE ON "transfers" FOR EACH ROW EXECUTE FUNCTION azora_refuse_change();

CREATE TRIGGER trg_transfers_no_truncate BEFORE TRUNCATE ON "transfers" FOR EACH STATEMENT EXECUTE FUNCTION azora_refuse_change();

CREATE TRIGGER trg_ledger_transactions_append_only BEFORE UPDATE OR DELETE ON "ledger_transactions" FOR EACH ROW EXECUTE FUNCTION azora_refuse_change();

CREATE TRIGGER trg_ledger_transactions_no_truncate BEFORE TRUNCATE ON "ledger_transactions" FOR EACH STATEMENT EXECUTE FUNCTION azora_refuse_change();

CREATE TRIGGER trg_state_transitions_append_only BEFORE UPDATE OR DELETE ON "state_transitions" FOR EACH ROW EXECUTE FUNCTION azora_refuse_change();

CREATE TRIGGER trg_state_transitions_no_truncate BEFORE TRUNCATE ON "state_transitions" FOR EACH STATEMENT EXECUTE FUNCTION azora_refuse_change();
