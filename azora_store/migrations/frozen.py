"""Building blocks for frozen model copies inside migration files.

A migration must create the schema as it was when the migration was written,
not as the models are today, so each migration that creates tables declares
its own frozen models. They reuse the field classes (whose DDL never changes)
but spell enumerations out as literal value lists.
"""

from __future__ import annotations

from typing import Any

from peewee import Model

from ..models.fields import CheckedCharField, one_of


class FrozenModel(Model):
    class Meta:
        legacy_table_names = False


def choice(*values: str, **kwargs: Any) -> CheckedCharField:
    """The DDL of an ``EnumField`` over ``values`` (same width, same named CHECK)."""
    return CheckedCharField(max_length=max(len(v) for v in values), rules=[one_of(values)],
                            **kwargs)


CURRENCIES_V1 = ("USD", "EUR", "GBP", "ZAR", "NGN", "KES", "GHS", "EGP")
