"""Field types whose rules live in the database as named CHECK constraints.

A ``Rule`` is written once and used three ways: rendered into DDL as
``CONSTRAINT ck_<table>_<column>_<rule> CHECK (...)`` (so raw SQL cannot break
it either), checked in Python before a ``save()`` (so the common mistake never
costs a round trip), and looked up by name when the database rejects a row (so
the error names the field and the rule on both backends).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from peewee import (
    SQL,
    BigIntegerField,
    CharField,
    Check,
    DateTimeField,
    ForeignKeyField,
    IntegerField,
    NodeList,
    TextField,
)

from ..errors import AzoraError, ValidationError
from ..money import MAX_MINOR, from_minor, to_minor
from ..support.clock import utcnow


@dataclass(frozen=True)
class Rule:
    """One named constraint on one column.

    ``sql`` is a template with ``{col}`` for the quoted column name; ``accepts``
    is the same rule as a Python predicate over the stored value (None passes,
    as it does for a SQL CHECK).
    """

    name: str
    sql: str
    message: str
    accepts: Callable[[Any], bool]


def one_of(values: Iterable[str]) -> Rule:
    values = tuple(values)
    listed = ", ".join(f"'{v}'" for v in values)
    allowed = frozenset(values)
    return Rule("enum", "{col} IN (" + listed + ")", "must be one of " + ", ".join(values),
                lambda v: v in allowed)


def between(low: int, high: int) -> Rule:
    return Rule("range", f"{{col}} BETWEEN {low} AND {high}",
                f"must be between {low} and {high}", lambda v: low <= v <= high)


def positive_money() -> Rule:
    return Rule("positive", f"{{col}} > 0 AND {{col}} <= {MAX_MINOR}",
                f"must be greater than zero and at most {from_minor(MAX_MINOR)}",
                lambda v: 0 < v <= MAX_MINOR)


def non_negative_money() -> Rule:
    return Rule("non_negative", f"{{col}} >= 0 AND {{col}} <= {MAX_MINOR}",
                f"must be zero or more and at most {from_minor(MAX_MINOR)}",
                lambda v: 0 <= v <= MAX_MINOR)


def at_least(low: int) -> Rule:
    return Rule("min", f"{{col}} >= {low}", f"must be at least {low}", lambda v: v >= low)


def not_blank() -> Rule:
    return Rule("not_blank", "length(trim({col})) > 0", "must not be blank",
                lambda v: bool(v.strip()))


def lower_case() -> Rule:
    return Rule("lower", "{col} = lower({col})", "must be lower-case", lambda v: v == v.lower())


_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def email_shape() -> Rule:
    return Rule("email", "{col} LIKE '%_@_%._%'", "must be an email address such as a@b.org",
                lambda v: bool(_EMAIL.match(v)))


class RuleMixin:
    """Adds ``rules=`` to a peewee field and renders them as named CHECKs."""

    default_rules: tuple[Rule, ...] = ()

    def __init__(self, *args: Any, rules: Iterable[Rule] = (), **kwargs: Any):
        self.rules = tuple(self.default_rules) + tuple(rules)
        super().__init__(*args, **kwargs)
        self._declared_constraints = list(self.constraints or [])

    def bind(self, model, name, set_attribute=True):
        super().bind(model, name, set_attribute)
        table = model._meta.table_name
        self.constraints = self._declared_constraints + [
            Check(rule.sql.format(col=f'"{self.column_name}"'),
                  name=constraint_name(table, self.column_name, rule.name))
            for rule in self.rules
        ]

    def validate(self, value: Any) -> None:
        """Raise ValidationError if ``value`` breaks one of this field's rules."""
        if value is None:
            return
        stored = self.db_value(value)
        for rule in self.rules:
            if not rule.accepts(stored):
                raise ValidationError(f"{self.model.__name__}.{self.name} {rule.message}",
                                      field=self.name, rule=rule.name)


def constraint_name(table: str, column: str, rule: str) -> str:
    return f"ck_{table}_{column}_{rule}"


class TableCheck(NodeList):
    """A named table-level CHECK that knows which field it guards and why, and
    which error class a violation becomes (ValidationError unless told)."""

    def __init__(self, name: str, sql: str, field: str, message: str,
                 error: type[AzoraError] = ValidationError):
        super().__init__((Check(sql, name=name),))
        self.name = name
        self.field = field
        self.message = message
        self.error = error


class CompositeForeignKey(NodeList):
    """A named multi-column FOREIGN KEY (e.g. account + currency)."""

    def __init__(self, name: str, columns: tuple[str, ...], table: str,
                 ref_columns: tuple[str, ...], field: str, message: str):
        cols = ", ".join(f'"{c}"' for c in columns)
        refs = ", ".join(f'"{c}"' for c in ref_columns)
        super().__init__((SQL(f'CONSTRAINT "{name}" FOREIGN KEY ({cols}) '
                              f'REFERENCES "{table}" ({refs})'),))
        self.name = name
        self.field = field
        self.message = message
        self.columns = columns
        self.table = table
        self.ref_columns = ref_columns


class CheckedCharField(RuleMixin, CharField):
    pass


class CheckedTextField(RuleMixin, TextField):
    pass


class CheckedIntegerField(RuleMixin, IntegerField):
    pass


class EnumField(RuleMixin, CharField):
    """A StrEnum stored as its value; the database CHECKs the value is a member."""

    def __init__(self, enum_class: type[StrEnum], **kwargs: Any):
        self.enum_class = enum_class
        kwargs.setdefault("max_length", max(len(m.value) for m in enum_class))
        super().__init__(rules=[one_of(m.value for m in enum_class)], **kwargs)

    def db_value(self, value: Any) -> str | None:
        if value is None:
            return None
        try:
            return self.enum_class(value).value
        except ValueError:
            allowed = ", ".join(m.value for m in self.enum_class)
            raise ValidationError(
                f"{self.model.__name__}.{self.name} must be one of {allowed}, got {value!r}",
                field=self.name, rule="enum") from None

    def python_value(self, value: Any) -> StrEnum | None:
        return None if value is None else self.enum_class(value)


class MinorUnitsMixin:
    """Decimal major units in Python, BIGINT minor units on disk (see money.py).

    The column is named ``<field>_minor`` so raw SQL readers see the unit."""

    def bind(self, model, name, set_attribute=True):
        if not self.column_name:
            self.column_name = f"{name}_minor"
        super().bind(model, name, set_attribute)

    def db_value(self, value: Any) -> int | None:
        return None if value is None else to_minor(value, self.name)

    def python_value(self, value: Any):
        return None if value is None else from_minor(int(value))


class MoneyField(MinorUnitsMixin, RuleMixin, BigIntegerField):
    """An amount: greater than zero unless ``positive=False`` (then zero or more)."""

    def __init__(self, *, positive: bool = True, **kwargs: Any):
        rules = [positive_money() if positive else non_negative_money()]
        super().__init__(rules=rules + list(kwargs.pop("rules", ())), **kwargs)


class BalanceField(MinorUnitsMixin, BigIntegerField):
    """A running balance or a sum; its sign rule, if any, is a table CHECK."""


class EmailField(RuleMixin, CharField):
    """Stored trimmed and lower-cased, so uniqueness is case-insensitive."""

    default_rules = (lower_case(), email_shape())

    def __init__(self, **kwargs: Any):
        kwargs.setdefault("max_length", 254)
        super().__init__(**kwargs)

    def db_value(self, value: Any) -> str | None:
        return None if value is None else str(value).strip().lower()


class SkillField(RuleMixin, CharField):
    """A skill name normalised to lower-case words separated by one space."""

    default_rules = (lower_case(), not_blank())

    def __init__(self, **kwargs: Any):
        kwargs.setdefault("max_length", 64)
        super().__init__(**kwargs)

    def db_value(self, value: Any) -> str | None:
        return None if value is None else normalise_skill(value)


def normalise_skill(value: str) -> str:
    return " ".join(str(value).split()).lower()


class ForeignKey(ForeignKeyField):
    """A foreign key with a stable constraint name and an explicit delete rule.

    The default rule is RESTRICT: financial and audit rows are never cascaded
    away; the few attribute tables that may follow their parent say CASCADE.
    """

    def __init__(self, model: Any, *, on_delete: str = "RESTRICT", **kwargs: Any):
        super().__init__(model, on_delete=on_delete, **kwargs)

    def bind(self, model, name, set_attribute=True):
        super().bind(model, name, set_attribute)
        self.constraint_name = f"fk_{model._meta.table_name}_{self.column_name}"


def created_at() -> DateTimeField:
    return DateTimeField(default=utcnow)


def updated_at() -> DateTimeField:
    """Set by Python on insert and by a database trigger on every UPDATE."""
    return DateTimeField(default=utcnow)
