"""KYC look-up by user from one index: ``ix_kyc_verifications_user`` carries
every column ``kyc_lookup(user_id=...)`` returns, so a cold look-up reads one
index leaf instead of an index leaf and then the table's page (Postgres: an
index-only scan where the visibility map allows). The unique index on
``user_id`` stays: it is the one-record-per-user rule."""

NAME = "0024_kyc_by_user_covering"


def up(migrator, db):
    db.backend.execute_script(db.backend.migration_sql(NAME, "up"))


def down(migrator, db):
    db.backend.execute_script(db.backend.migration_sql(NAME, "down"))
