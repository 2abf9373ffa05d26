-- 0003_ledger_and_audit_triggers (up, sqlite): frozen; never edit, add a migration.

CREATE TRIGGER trg_transfers_apply AFTER INSERT ON transfers
FOR EACH ROW
BEGIN
    UPDATE accounts
       SET balance_minor = balance_minor + CASE WHEN id = NEW.to_account_id
                                                THEN NEW.amount_minor
                                                ELSE -NEW.amount_minor END,
           updated_at = strftime('%Y-%m-%d %H:%M:%f', 'now')
     WHERE id IN (NEW.from_account_id, NEW.to_account_id);
END;

CREATE TRIGGER trg_security_events_no_update BEFORE UPDATE ON "security_events"
BEGIN
    SELECT RAISE(ABORT, 'azora|conflict||security_events is append-only: UPDATE is refused');
END;

CREATE TRIGGER trg_security_events_no_delete BEFORE DELETE ON "security_events"
BEGIN
    SELECT RAISE(ABORT, 'azora|conflict||security_events is append-only: DELETE is refused');
END;

CREATE TRIGGER trg_transfers_no_update BEFORE UPDATE ON "transfers"
BEGIN
    SELECT RAISE(ABORT, 'azora|conflict||transfers is append-only: UPDATE is refused');
END;

CREATE TRIGGER trg_transfers_no_delete BEFORE DELETE ON "transfers"
BEGIN
    SELECT RAISE(ABORT, 'azora|conflict||transfers is append-only: DELETE is refused');
END;

CREATE TRIGGER trg_ledger_transactions_no_update BEFORE UPDATE ON "ledger_transactions"
BEGIN
    SELECT RAISE(ABORT, 'azora|conflict||ledger_transactions is append-only: UPDATE is refused');
END;

CREATE TRIGGER trg_ledger_transactions_no_delete BEFORE DELETE ON "ledger_transactions"
BEGIN
    SELECT RAISE(ABORT, 'azora|conflict||ledger_transactions is append-only: DELETE is refused');
END;

CREATE TRIGGER trg_state_transitions_no_update BEFORE UPDATE ON "state_transitions"
BEGIN
    SELECT RAISE(ABORT, 'azora|conflict||state_transitions is append-only: UPDATE is refused');
END;

CREATE TRIGGER trg_state_transitions_no_delete BEFORE DELETE ON "state_transitions"
BEGIN
    SELECT RAISE(ABORT, 'azora|conflict||state_transitions is append-only: DELETE is refused');
END;
