"""Which field a database constraint protects, and what its violation means.

Both backends report a rejected row differently (SQLite: a message such as
``CHECK constraint failed: ck_reviews_rating_range``; Postgres: SQLSTATE plus
a constraint name). Each backend extracts the constraint name or the columns
and asks this catalogue for the package error that names the field. The
catalogue is built from the models themselves, so it can never drift from
the DDL.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache

from peewee import ForeignKeyField

from ..errors import AzoraError, Conflict, ValidationError
from .fields import CompositeForeignKey, RuleMixin, TableCheck, constraint_name


@dataclass(frozen=True)
class Violation:
    """What one constraint guards: model name, field, and the rule's sentence."""

    model: str
    field: str | None
    rule: str
    message: str
    error: type[AzoraError]

    def exception(self) -> AzoraError:
        subject = f"{self.model}.{self.field}" if self.field else self.model
        return self.error(f"{subject} {self.message}", field=self.field, rule=self.rule)


class Catalogue:
    def __init__(self, models: Iterable[type]):
        self.constraints: dict[str, Violation] = {}
        self.columns: dict[tuple[str, str], tuple[str, str]] = {}
        self.unique_columns: dict[tuple[str, frozenset[str]], Violation] = {}
        self.models: dict[str, type] = {}
        for model in models:
            self._add_model(model)

    def _add_model(self, model: type) -> None:
        meta = model._meta
        table, name = meta.table_name, model.__name__
        self.models[table] = model
        for field in meta.sorted_fields:
            self.columns[(table, field.column_name)] = (name, field.name)
            if isinstance(field, RuleMixin):
                for rule in field.rules:
                    self.constraints[constraint_name(table, field.column_name, rule.name)] = (
                        Violation(name, field.name, rule.name, rule.message, ValidationError))
            if isinstance(field, ForeignKeyField):
                target = field.rel_model.__name__
                self.constraints[f"fk_{table}_{field.column_name}"] = Violation(
                    name, field.name, "foreign_key", f"refers to a {target} that does not exist",
                    ValidationError)
        for constraint in meta.constraints or ():
            if isinstance(constraint, TableCheck):
                self.constraints[constraint.name] = Violation(
                    name, constraint.field, "check", constraint.message, constraint.error)
            elif isinstance(constraint, CompositeForeignKey):
                self.constraints[constraint.name] = Violation(
                    name, constraint.field, "foreign_key", constraint.message, ValidationError)
        for index in meta.fields_to_index():
            if not index._unique:
                continue
            fields = [e.name for e in index._expressions if hasattr(e, "column_name")]
            columns = frozenset(e.column_name for e in index._expressions
                                if hasattr(e, "column_name"))
            what = " and ".join(fields)
            violation = Violation(
                name, fields[-1] if fields else None, "unique",
                f"is already taken: another {name} has the same {what}", Conflict)
            self.constraints[index._name] = violation
            self.unique_columns[(table, columns)] = violation

    # -- look-ups used by the backends ---------------------------------------------

    def by_constraint(self, name: str | None) -> AzoraError | None:
        violation = self.constraints.get(name or "")
        return violation.exception() if violation else None

    def not_null(self, table: str, column: str) -> AzoraError:
        model, field = self.columns.get((table, column), (table, column))
        return ValidationError(f"{model}.{field} is required", field=field, rule="required")

    def unique(self, table: str, columns: Iterable[str]) -> AzoraError:
        columns = frozenset(columns)
        violation = self.unique_columns.get((table, columns))
        if violation is None and len(columns) == 1:
            (column,) = columns
            model, field = self.columns.get((table, column), (table, column))
            violation = Violation(model, field, "unique",
                                  f"is already taken: another {model} has the same {field}",
                                  Conflict)
        if violation is None:
            return Conflict(f"a {table} row with the same {', '.join(sorted(columns))} exists",
                            rule="unique")
        return violation.exception()

    def still_referenced(self, table: str) -> AzoraError:
        model = self.models.get(table)
        what = model.__name__ if model else table
        return Conflict(f"cannot delete this {what}: other rows still refer to it "
                        "(financial and audit rows are never cascaded away)",
                        rule="restrict")

    def missing_reference(self, field: str | None, target: str | None) -> AzoraError:
        return ValidationError(
            f"{field or 'a reference'} refers to a {target or 'row'} that does not exist",
            field=field, rule="foreign_key")


@cache
def catalogue() -> Catalogue:
    """The catalogue of the package's own models (built once per process)."""
    from . import TABLES

    return Catalogue(TABLES)
