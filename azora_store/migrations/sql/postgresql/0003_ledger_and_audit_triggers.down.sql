-- 0003_ledger_and_audit_triggers (down, postgresql): frozen; never edit, add a migration.

DROP TRIGGER IF EXISTS trg_security_events_append_only ON "security_events";

DROP TRIGGER IF EXISTS trg_security_events_no_truncate ON "security_events";

DROP TRIGGER IF EXISTS trg_transfers_append_only ON "transfers";

DROP TRIGGER IF EXISTS trg_transfers_no_truncate ON "transfers";

DROP TRIGGER IF EXISTS trg_ledger_transactions_append_only ON "ledger_transactions";

DROP TRIGGER IF EXISTS trg_ledger_transactions_no_truncate ON "ledger_transactions";

DROP TRIGGER IF EXISTS trg_state_transitions_append_only ON "state_transitions";

DROP TRIGGER IF EXISTS trg_state_transitions_no_truncate ON "state_transitions";

DROP FUNCTION IF EXISTS azora_refuse_change();

DROP TRIGGER IF EXISTS trg_transfers_apply ON transfers;

DROP FUNCTION IF EXISTS azora_apply_transfer();
