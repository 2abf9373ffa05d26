"""Money and audit rules the database enforces by itself:
- each inserted transfer moves its amount between the two account balances
  (whose CHECK refuses a negative balance, so no overdraft can commit);
- audit and financial history is append-only: UPDATE and DELETE are refused."""

APPEND_ONLY = ("security_events", "transfers", "ledger_transactions", "state_transitions")


def up(migrator, db):
    db.backend.execute_script(db.backend.transfer_balance_trigger())
    db.backend.execute_script(db.backend.append_only_triggers(APPEND_ONLY))


def down(migrator, db):
    db.backend.execute_script(db.backend.drop_append_only_triggers(APPEND_ONLY))
    db.backend.execute_script(db.backend.drop_transfer_balance_trigger())
