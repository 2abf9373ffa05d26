"""Per-user counters (``user_counters``): what the ``user_stats`` view
aggregates over enrollments, jobs, applications, reviews and the ledger, kept
in one row per user by triggers in the same transaction as every change, so
that ``user_stats`` reads one row however cold the pages. Backfills the users
already there (one INSERT ... SELECT). The model below is frozen as of this
migration; the triggers and the backfill are frozen SQL per dialect."""

from peewee import BigIntegerField, BooleanField, IntegerField, TextField

from azora_store.migrations.frozen import FrozenModel

NAME = "0017_user_counters"


class UserCounter(FrozenModel):
    user_id = IntegerField(primary_key=True)
    active = BooleanField()
    enrollments = IntegerField()
    courses_completed = IntegerField()
    jobs_posted = IntegerField()
    jobs_completed = IntegerField()
    applications = IntegerField()
    reviews_received = IntegerField()
    rating_sum = BigIntegerField()
    earnings = TextField()

    class Meta:
        table_name = "user_counters"


def up(migrator, db):
    db.bind([UserCounter])
    db.create_tables([UserCounter], safe=False)
    db.backend.execute_script(db.backend.migration_sql(NAME, "up"))


def down(migrator, db):
    db.backend.execute_script(db.backend.migration_sql(NAME, "down"))
    db.bind([UserCounter])
    db.drop_tables([UserCounter], safe=False)
