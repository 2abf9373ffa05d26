"""API bearer tokens (``api_tokens``): name, SHA-256 hash of the token (unique),
scopes, created/last used/revoked times. The model below is frozen as of this
migration; its scope combinations are spelled out."""

from peewee import AutoField, CharField, DateTimeField

from azora_store.migrations.frozen import FrozenModel, choice
from azora_store.models.fields import CheckedCharField, not_blank

SCOPE_SETS_V1 = ("compliance", "read", "write", "compliance read", "compliance write",
                 "read write", "compliance read write")


class ApiToken(FrozenModel):
    id = AutoField()
    name = CheckedCharField(max_length=100, rules=[not_blank()])
    token_hash = CharField(max_length=64, unique=True)
    scopes = choice(*SCOPE_SETS_V1)
    created_at = DateTimeField()
    last_used_at = DateTimeField(null=True)
    revoked_at = DateTimeField(null=True)

    class Meta:
        table_name = "api_tokens"


def up(migrator, db):
    db.bind([ApiToken])
    db.create_tables([ApiToken], safe=False)


def down(migrator, db):
    db.bind([ApiToken])
    db.drop_tables([ApiToken], safe=False)
