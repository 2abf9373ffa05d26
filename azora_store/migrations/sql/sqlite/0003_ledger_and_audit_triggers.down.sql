-- 0003_ledger_and_audit_triggers (down, sqlite): frozen; never edit, add a migration.

DROP TRIGGER IF EXISTS trg_security_events_no_update;

DROP TRIGGER IF EXISTS trg_security_events_no_delete;

DROP TRIGGER IF EXISTS trg_transfers_no_update;

DROP TRIGGER IF EXISTS trg_transfers_no_delete;

DROP TRIGGER IF EXISTS trg_ledger_transactions_no_update;

DROP TRIGGER IF EXISTS trg_ledger_transactions_no_delete;

DROP TRIGGER IF EXISTS trg_state_transitions_no_update;

DROP TRIGGER IF EXISTS trg_state_transitions_no_delete;

DROP TRIGGER IF EXISTS trg_transfers_apply;
