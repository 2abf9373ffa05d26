"""Views: JobAnalytics (per day and currency), UserStats (per user), and
ledger_postings (every transfer as a debit and a credit leg)."""


def up(migrator, db):
    db.backend.execute_script(db.backend.migration_sql("0004_analytics_views", "up"))


def down(migrator, db):
    db.backend.execute_script(db.backend.migration_sql("0004_analytics_views", "down"))
