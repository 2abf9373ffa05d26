"""API bearer tokens: only a SHA-256 hash of each token is stored.

A token carries one or more scopes (``read``, ``write``, ``compliance``);
``scopes`` holds them space-separated in sorted order, and the database CHECKs
that it is one of the non-empty combinations, as for every enumeration.
Revoking sets ``revoked_at``; rows are kept for the audit trail.
"""

from __future__ import annotations

from itertools import combinations

from peewee import AutoField, CharField, DateTimeField

from .base import BaseModel
from .fields import CheckedCharField, created_at, not_blank, one_of

SCOPES: tuple[str, ...] = ("compliance", "operator", "read", "write")
#: Every non-empty set of scopes, spelled as stored ("compliance read", ...).
SCOPE_SETS: tuple[str, ...] = tuple(" ".join(c) for n in range(1, len(SCOPES) + 1)
                                    for c in combinations(SCOPES, n))


class ApiToken(BaseModel):
    id = AutoField()
    name = CheckedCharField(max_length=100, rules=[not_blank()])
    token_hash = CharField(max_length=64, unique=True)  # sha256 hex of the token
    scopes = CheckedCharField(max_length=max(len(s) for s in SCOPE_SETS),
                              rules=[one_of(SCOPE_SETS)])
    created_at = created_at()
    last_used_at = DateTimeField(null=True)
    revoked_at = DateTimeField(null=True)

    class Meta:
        table_name = "api_tokens"


class StoreSecret(BaseModel):
    """Per-database secrets made by a migration, for values no configuration
    supplies: ``cursor`` signs search cursors when ``AZORA_FIELD_KEY`` is not set
    (see ``azora_store/search/cursors.py``). Every process sharing the database shares
    them; they never leave it."""

    name = CharField(max_length=64, primary_key=True)
    value = CharField(max_length=128)  # hex
    created_at = created_at()

    class Meta:
        table_name = "store_secrets"
