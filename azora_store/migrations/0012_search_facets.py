"""Job search: each OPEN job's currency and budget bucket in its full-text
index entry (SQLite: tokens of the FTS5 row; Postgres: lexemes next to the
skill, currency and id-window ones), so that text + skills + currency + budget
range narrow inside one index scan (see ``azora_store.search_facets``)."""


def up(migrator, db):
    db.backend.execute_script(db.backend.search_facets_ddl())


def down(migrator, db):
    db.backend.execute_script(db.backend.drop_search_facets_ddl())
