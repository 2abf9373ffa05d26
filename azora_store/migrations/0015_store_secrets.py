"""Per-database secrets (``store_secrets``): name, hex value, created time. Adds
the ``cursor`` secret that signs search cursors when no ``AZORA_FIELD_KEY`` is
configured. The model below is frozen as of this migration."""

import secrets
from datetime import UTC, datetime

from peewee import CharField, DateTimeField

from azora_store.migrations.frozen import FrozenModel


class StoreSecret(FrozenModel):
    name = CharField(max_length=64, primary_key=True)
    value = CharField(max_length=128)
    created_at = DateTimeField()

    class Meta:
        table_name = "store_secrets"


def up(migrator, db):
    db.bind([StoreSecret])
    db.create_tables([StoreSecret], safe=False)
    now = datetime.now(UTC).replace(tzinfo=None)  # naive UTC, as everywhere
    StoreSecret.insert(name="cursor", value=secrets.token_hex(32), created_at=now).execute()


def down(migrator, db):
    db.bind([StoreSecret])
    db.drop_tables([StoreSecret], safe=False)
