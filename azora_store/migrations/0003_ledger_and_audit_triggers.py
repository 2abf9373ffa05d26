"""Money and audit rules the database enforces by itself:
- each inserted transfer moves its amount between the two account balances
  (whose CHECK refuses a negative balance, so no overdraft can commit);
- audit and financial history is append-only: UPDATE and DELETE are refused."""


def up(migrator, db):
    db.backend.execute_script(db.backend.migration_sql("0003_ledger_and_audit_triggers", "up"))


def down(migrator, db):
    db.backend.execute_script(db.backend.migration_sql("0003_ledger_and_audit_triggers", "down"))
