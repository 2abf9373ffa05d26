"""Dead letters you can list: partial indexes over FAILED events, by id and by
service then id, so a keyset page of ``sync failed`` (and ``GET
/api/sync/failed``) reads only the rows it shows, however many have failed."""


def up(migrator, db):
    db.backend.execute_script(db.backend.migration_sql("0020_failed_events", "up"))


def down(migrator, db):
    db.backend.execute_script(db.backend.migration_sql("0020_failed_events", "down"))
