"""The base model every azora_store table derives from.

Models are declared without a database; ``Store`` binds them to its backend's
database when it opens (one store per process, like a peewee app).
"""

from __future__ import annotations

from peewee import JSONField, Model

from ..errors import ValidationError
from ..support import jsonutil


class BaseModel(Model):
    class Meta:
        legacy_table_names = False

    def validate(self) -> None:
        """Check required fields and every field rule before touching the database."""
        data = self.__data__
        for field in self._meta.sorted_fields:
            value = data.get(field.name)
            if value is None:
                if not field.null and not field.primary_key and field.default is None:
                    raise ValidationError(f"{field.name} is required", field=field.name,
                                          rule="required")
                continue
            validate = getattr(field, "validate", None)
            if validate is not None:
                validate(value)

    def save(self, *args, **kwargs):
        self.validate()
        return super().save(*args, **kwargs)


def json_field(**kwargs) -> JSONField:
    """JSON (JSONB on Postgres, TEXT on SQLite) that keeps Decimal exact."""
    return JSONField(dumps=jsonutil.dumps, loads=jsonutil.loads, **kwargs)
