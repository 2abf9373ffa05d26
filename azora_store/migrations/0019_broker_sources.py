"""Events from other databases: a source column and this database's identity.

A consumer applying events from brokers sees event ids from many outboxes (an
edge SQLite node and another both have an event 1), so ``consumed_events`` and
``event_log`` key them by ``(source, event id)``; local events keep the source
''. ``store_identity`` holds one random id per database, the source this
database's events carry when published (``Nats-Msg-Id``, ``message_id``).
``consumer_positions`` holds how far a consumer has applied a stream.

Down drops the identity and keeps only local rows (source ''): rows consumed
from other databases cannot be told apart without their source.
"""

from peewee import CharField

from azora_store.migrations.frozen import FrozenModel


class StoreIdentity(FrozenModel):  # created by the frozen SQL; named here for `migrate down`
    source = CharField(max_length=64, primary_key=True)

    class Meta:
        table_name = "store_identity"


class ConsumerPosition(FrozenModel):
    consumer = CharField(max_length=200, primary_key=True)

    class Meta:
        table_name = "consumer_positions"


def up(migrator, db):
    db.backend.execute_script(db.backend.migration_sql("0019_broker_sources", "up"))


def down(migrator, db):
    db.backend.execute_script(db.backend.migration_sql("0019_broker_sources", "down"))
