"""Job search: SQLite's FTS5 index keyed by minus the job id, so that newest
first is its forward order (FTS5 walks a doclist backwards at about half the
speed). Nothing on Postgres."""


def up(migrator, db):
    db.backend.execute_script(db.backend.migration_sql("0013_search_newest_first", "up"))


def down(migrator, db):
    db.backend.execute_script(db.backend.migration_sql("0013_search_newest_first", "down"))
