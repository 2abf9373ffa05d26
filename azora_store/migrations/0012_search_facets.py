"""Job search: each OPEN job's currency, budget bucket and the pair of both as
tokens of its SQLite FTS5 row, so that text + skills + a selective currency or
budget range narrow inside one index scan (see ``azora_store.search.facets``).
Nothing on Postgres: its vectors hold the currency since 0011, and budget
lexemes were measured slower there (see PostgresBackend.text_narrow)."""


def up(migrator, db):
    db.backend.execute_script(db.backend.migration_sql("0012_search_facets", "up"))


def down(migrator, db):
    db.backend.execute_script(db.backend.migration_sql("0012_search_facets", "down"))
