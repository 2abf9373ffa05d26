"""The operator dashboard:

- API tokens may hold the ``operator`` scope (act on the outbox: retry,
  discard, run now, from the API and ``/dashboard``): the scopes column is
  wider and its CHECK lists the 15 combinations of four scopes. Going down
  takes ``operator`` out of every token (one that held nothing else is revoked).
- ``sync_throughput``: events completed per minute, added by workers every
  housekeeping round and kept for two hours (the dashboard's chart), so the
  chart never counts over the outbox.
"""

from peewee import BigIntegerField, DateTimeField

from azora_store.migrations.frozen import FrozenModel


class SyncThroughput(FrozenModel):
    minute = DateTimeField(primary_key=True)
    completed = BigIntegerField()

    class Meta:
        table_name = "sync_throughput"


def up(migrator, db):
    db.backend.execute_script(db.backend.migration_sql("0021_operator_dashboard", "up"))
    db.bind([SyncThroughput])
    db.create_tables([SyncThroughput], safe=False)


def down(migrator, db):
    db.bind([SyncThroughput])
    db.drop_tables([SyncThroughput], safe=False)
    db.backend.execute_script(db.backend.migration_sql("0021_operator_dashboard", "down"))
