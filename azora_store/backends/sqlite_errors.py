"""SQLite's driver errors as ``azora_store.errors``, with the field and rule named.

SQLite names the CHECK or index that failed but not the foreign key: on that
(rare) path the statement's written rows are read back and each reference
looked up, so the error still names the field.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from ..errors import (
    AzoraError,
    DatabaseBusy,
    DatabaseError,
    DatabaseUnavailable,
    SchemaOutOfDate,
    ValidationError,
)
from ..models.catalogue import Catalogue
from ..models.fields import CompositeForeignKey
from .translate import app_error


class SqliteErrors:
    """The ``translate_error`` half of ``SqliteBackend``."""

    catalogue: Catalogue
    db: Any
    path: str

    def translate_error(self, exc: BaseException, sql: str = "", params: Any = None
                        ) -> AzoraError:
        orig = getattr(exc, "orig", exc)
        message = str(orig)
        found = app_error(message)
        if found is not None:
            return found
        code = getattr(orig, "sqlite_errorname", "")
        if code == "SQLITE_CONSTRAINT_CHECK" or message.startswith("CHECK constraint failed"):
            name = message.partition(": ")[2].strip()
            return self.catalogue.by_constraint(name) or ValidationError(
                f"a CHECK constraint failed: {name}", rule="check")
        if code == "SQLITE_CONSTRAINT_NOTNULL" or message.startswith("NOT NULL constraint"):
            table, _, column = message.partition(": ")[2].strip().partition(".")
            return self.catalogue.not_null(table, column)
        if code in ("SQLITE_CONSTRAINT_UNIQUE", "SQLITE_CONSTRAINT_PRIMARYKEY") or \
                message.startswith("UNIQUE constraint"):
            detail = message.partition(": ")[2].strip()
            if detail.startswith("index "):
                return self.catalogue.by_constraint(detail[6:].strip("'\"")) or \
                    self.catalogue.unique("", ())
            pairs = [part.strip().partition(".") for part in detail.split(",")]
            return self.catalogue.unique(pairs[0][0], [column for _, _, column in pairs])
        if code == "SQLITE_CONSTRAINT_FOREIGNKEY" or message.startswith("FOREIGN KEY"):
            return self._explain_foreign_key(sql, params or ())
        if code in ("SQLITE_BUSY", "SQLITE_LOCKED", "SQLITE_BUSY_SNAPSHOT") or \
                "database is locked" in message:
            return DatabaseBusy("the SQLite database is locked by another writer for longer "
                                "than busy_timeout; retry, or raise ?busy_timeout= in the URL")
        if message.startswith("no such table") or message.startswith("no such column"):
            return SchemaOutOfDate(f"{message}: the schema is missing or older than this "
                                   "code; run `azora-store init`")
        if "unable to open database file" in message:
            return DatabaseUnavailable(f"cannot open SQLite database {self.path}: {message}")
        return DatabaseError(f"SQLite error: {message}")

    def _explain_foreign_key(self, sql: str, params: Sequence[Any]) -> AzoraError:
        """SQLite does not say which foreign key failed. On this (rare) error
        path, read the statement's columns and values and look each reference up."""
        deleted = _DELETE.match(sql)
        if deleted:
            return self.catalogue.still_referenced(deleted.group(1))
        table, rows = _written_rows(sql, params)
        model = self.catalogue.models.get(table or "")
        if model is not None:
            for row in rows:
                found = self._missing_reference(model, row)
                if found is not None:
                    return found
        return ValidationError("a reference points to a row that does not exist",
                               rule="foreign_key")

    def _missing_reference(self, model: Any, row: dict[str, Any]) -> AzoraError | None:
        table = model._meta.table_name
        for field in model._meta.refs:
            value = row.get(field.column_name)
            if value is None:
                continue
            target = field.rel_model._meta
            if self.db.execute_sql(f'SELECT 1 FROM "{target.table_name}" WHERE '
                                   f'"{field.rel_field.column_name}" = ?', (value,)
                                   ).fetchone() is None:
                return self.catalogue.by_constraint(f"fk_{table}_{field.column_name}")
        for constraint in model._meta.constraints or ():
            if not isinstance(constraint, CompositeForeignKey):
                continue
            values = [row.get(column) for column in constraint.columns]
            if any(v is None for v in values):
                continue
            where = " AND ".join(f'"{c}" = ?' for c in constraint.ref_columns)
            found = self.db.execute_sql(f'SELECT 1 FROM "{constraint.table}" WHERE {where}',
                                        values).fetchone()
            if found is None:
                return self.catalogue.by_constraint(constraint.name)
        return None


_DELETE = re.compile(r'\s*DELETE\s+FROM\s+"?(\w+)"?', re.IGNORECASE)


_INSERT = re.compile(r'\s*INSERT\s+INTO\s+"?(\w+)"?\s*\(([^)]*)\)\s*VALUES\s*', re.IGNORECASE)


_UPDATE = re.compile(r'\s*UPDATE\s+"?(\w+)"?\s+SET\s+(.*?)\s+(WHERE|RETURNING|$)',
                     re.IGNORECASE | re.DOTALL)


_ASSIGNMENT = re.compile(r'^"?(\w+)"?\s*=\s*\?$')


def _written_rows(sql: str, params: Sequence[Any]) -> tuple[str | None, list[dict[str, Any]]]:
    """(table, rows as column -> value) of a parameterised INSERT or simple UPDATE."""
    params = list(params)
    insert = _INSERT.match(sql)
    if insert:
        columns = [c.strip().strip('"') for c in insert.group(2).split(",")]
        if not columns or len(params) % len(columns):
            return None, []
        return insert.group(1), [dict(zip(columns, params[i:i + len(columns)], strict=True))
                                 for i in range(0, len(params), len(columns))]
    update = _UPDATE.match(sql)
    if update:
        row = {}
        for position, assignment in enumerate(update.group(2).split(",")):
            matched = _ASSIGNMENT.match(assignment.strip())
            if matched is None or position >= len(params):
                return update.group(1), []
            row[matched.group(1)] = params[position]
        return update.group(1), [row]
    return None, []
