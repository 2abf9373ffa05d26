"""Job search: on Postgres, each OPEN job's vectors also hold the pair of its
currency and budget bucket (``azora_store.search.facets``), which a search with
a currency and a budget range ORs into its one unwindowed GIN scan, so the heap
is visited for the jobs in range only. SQLite's FTS5 rows hold the pairs since
0012: nothing to do there."""


def up(migrator, db):
    db.backend.execute_script(db.backend.migration_sql("0014_search_budget_pairs", "up"))


def down(migrator, db):
    db.backend.execute_script(db.backend.migration_sql("0014_search_budget_pairs", "down"))
