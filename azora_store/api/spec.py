"""A small schema language for the API's inputs: each spec validates a value
and describes itself as the JSON Schema the OpenAPI document publishes, so the
document and the checks cannot drift apart.

Everything a spec accepts is valid under its published schema (never more), so
a client that follows the document is never surprised and a request the
document forbids is refused with 422 naming the field. Checks that need the
database (does this user exist, is the job open) stay in the workflows.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from ..errors import ValidationError

#: Money as text: up to 13 integer digits and 2 decimals (always inside MAX_MINOR).
MONEY_PATTERN = r"^[0-9]{1,13}(\.[0-9]{1,2})?$"
#: The same, greater than zero (not only zeros and a point).
POSITIVE_MONEY_PATTERN = r"^(?![0.]*$)[0-9]{1,13}(\.[0-9]{1,2})?$"
MONEY_MAX = Decimal("9999999999999.99")
#: Text never carries NUL (PostgreSQL cannot store it, so neither backend takes it).
NO_NUL_PATTERN = r"^[^\u0000]*$"
INT32_MAX = 2_147_483_647
_DIGITS = re.compile(r"[0-9]{1,12}")
_MONEY = re.compile(MONEY_PATTERN.strip("^$"))
_NEGATIVE = re.compile(r"\s*-\s*[0-9]*\.?[0-9]+\s*")  # "-5.00": say what is wrong


def _fail(name: str, message: str, rule: str) -> ValidationError:
    return ValidationError(f"{name} {message}", field=name, rule=rule)


class Spec:
    """One value: ``parse`` checks a JSON value, ``parse_query`` a query string value."""

    def schema(self) -> dict[str, Any]:
        raise NotImplementedError

    def parse(self, value: Any, name: str) -> Any:
        raise NotImplementedError

    def parse_query(self, raw: str, name: str) -> Any:
        return self.parse(raw, name)


@dataclass(frozen=True)
class Integer(Spec):
    minimum: int = 1
    maximum: int = INT32_MAX
    description: str = ""

    def schema(self) -> dict[str, Any]:
        return _described({"type": "integer", "minimum": self.minimum,
                           "maximum": self.maximum}, self.description)

    def parse(self, value: Any, name: str) -> int:
        if isinstance(value, Decimal) and value.is_finite() and \
                self.minimum <= value <= self.maximum and value == value.to_integral_value():
            value = int(value)  # 3.0 is an integer in JSON Schema
        if isinstance(value, bool) or not isinstance(value, int):
            raise _fail(name, "must be a whole number", "type")
        if not self.minimum <= value <= self.maximum:
            raise _fail(name, f"must be from {self.minimum} to {self.maximum}", "range")
        return value

    def parse_query(self, raw: str, name: str) -> int:
        if not _DIGITS.fullmatch(raw):
            raise _fail(name, "must be a whole number", "type")
        return self.parse(int(raw), name)


@dataclass(frozen=True)
class Text(Spec):
    min_length: int = 0
    max_length: int = 200
    enum: tuple[str, ...] | None = None
    description: str = ""

    def schema(self) -> dict[str, Any]:
        if self.enum is not None:
            return _described({"type": "string", "enum": list(self.enum)}, self.description)
        schema: dict[str, Any] = {"type": "string", "maxLength": self.max_length,
                                  "pattern": NO_NUL_PATTERN}
        if self.min_length:
            schema["minLength"] = self.min_length
        return _described(schema, self.description)

    def parse(self, value: Any, name: str) -> str:
        if not isinstance(value, str):
            raise _fail(name, "must be a string", "type")
        if self.enum is not None:
            if value not in self.enum:
                raise _fail(name, f"must be one of {', '.join(self.enum)}", "enum")
            return value
        if not self.min_length <= len(value) <= self.max_length:
            raise _fail(name, f"must be {self.min_length} to {self.max_length} characters long",
                        "length")
        if "\x00" in value:
            raise _fail(name, "must not contain NUL characters", "characters")
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            raise _fail(name, "must be valid Unicode (no lone surrogates)",
                        "characters") from None
        return value


@dataclass(frozen=True)
class Money(Spec):
    """An amount in major units: a string such as "12.50" or a JSON number (read
    as Decimal, never float). Query parameters take the string form only.
    ``positive``: zero is refused too (budgets, bids), as the workflows do."""

    description: str = ""
    positive: bool = False

    def schema(self) -> dict[str, Any]:
        number: dict[str, Any] = {"type": "number", "minimum": 0,
                                  "maximum": float(MONEY_MAX)}
        if self.positive:
            number["exclusiveMinimum"] = True  # OpenAPI 3.0: the minimum itself is out
        return _described({"anyOf": [{"type": "string", "pattern": self._pattern()},
                                     number]}, self.description)

    def parse(self, value: Any, name: str) -> Decimal | str:
        if isinstance(value, str):
            return self.parse_query(value, name)
        if isinstance(value, bool) or not isinstance(value, (int, Decimal)):
            raise _fail(name, 'must be an amount such as "12.50"', "type")
        if isinstance(value, Decimal) and not value.is_finite():
            raise _fail(name, "must be a finite amount", "type")
        if value < 0 or (self.positive and value == 0):
            raise self._too_low(name)
        if value > MONEY_MAX:
            raise _fail(name, f"must be at most {MONEY_MAX}", "range")
        return Decimal(value)

    def parse_query(self, raw: str, name: str) -> str:
        if not isinstance(raw, str):
            raise _fail(name, 'must be an amount such as "12.50" (at most 2 decimals)', "type")
        if re.fullmatch(self._pattern().strip("^$"), raw):
            return raw
        if _NEGATIVE.fullmatch(raw) or (self.positive and _MONEY.fullmatch(raw)):
            raise self._too_low(name)
        raise _fail(name, 'must be an amount such as "12.50" (at most 2 decimals)', "type")

    def query_schema(self) -> dict[str, Any]:
        return _described({"type": "string", "pattern": self._pattern()}, self.description)

    def _pattern(self) -> str:
        return POSITIVE_MONEY_PATTERN if self.positive else MONEY_PATTERN

    def _too_low(self, name: str) -> ValidationError:
        if self.positive:
            return _fail(name, 'must be greater than 0, such as "12.50"', "positive")
        return _fail(name, 'must not be negative: an amount such as "12.50"', "range")


@dataclass(frozen=True)
class List(Spec):
    item: Spec
    max_items: int
    description: str = ""

    def schema(self) -> dict[str, Any]:
        return _described({"type": "array", "items": self.item.schema(),
                           "maxItems": self.max_items}, self.description)

    def parse(self, value: Any, name: str) -> list[Any]:
        if not isinstance(value, list):
            raise _fail(name, "must be a list", "type")
        if len(value) > self.max_items:
            raise _fail(name, f"must have at most {self.max_items} items", "max_items")
        return [self.item.parse(item, name) for item in value]

    def parse_query(self, raw: Any, name: str) -> list[Any]:
        values = raw if isinstance(raw, list) else [raw]
        if len(values) > self.max_items:
            raise _fail(name, f"must be given at most {self.max_items} times", "max_items")
        return [self.item.parse_query(item, name) for item in values]


def _described(schema: dict[str, Any], description: str) -> dict[str, Any]:
    if description:
        schema["description"] = description
    return schema


# -- bodies and query strings ----------------------------------------------------------


@dataclass(frozen=True)
class Field:
    spec: Spec
    required: bool = False
    nullable: bool = False
    default: Any = None


@dataclass(frozen=True)
class Body:
    """A JSON object with known fields: unknown ones are refused."""

    fields: Mapping[str, Field]
    name: str = ""

    def schema(self) -> dict[str, Any]:
        properties = {}
        for key, f in self.fields.items():
            schema = f.spec.schema()
            properties[key] = {**schema, "nullable": True} if f.nullable else schema
        schema: dict[str, Any] = {"type": "object", "properties": properties,
                                  "additionalProperties": False}
        required = [key for key, f in self.fields.items() if f.required]
        if required:
            schema["required"] = required
        return schema

    def parse(self, data: Any) -> dict[str, Any]:
        if not isinstance(data, dict):
            raise ValidationError("the body must be a JSON object", rule="type")
        unknown = [key for key in data if key not in self.fields]
        if unknown:
            key = unknown[0][:100]
            raise ValidationError(f"unknown field {key!r}: this body takes "
                                  f"{', '.join(self.fields)}", field=key, rule="unknown")
        values = {}
        for key, f in self.fields.items():
            if key not in data:
                if f.required:
                    raise _fail(key, "is required", "required")
                values[key] = f.default
            elif data[key] is None and f.nullable:
                values[key] = None
            else:
                values[key] = f.spec.parse(data[key], key)
        return values


@dataclass(frozen=True)
class Param:
    spec: Spec
    repeated: bool = False  # ?skill=a&skill=b
    default: Any = None
    description: str = ""


@dataclass(frozen=True)
class Query:
    """Query parameters: unknown ones are refused, single ones given once."""

    params: Mapping[str, Param] = field(default_factory=dict)

    def openapi(self) -> list[dict[str, Any]]:
        listed = []
        for key, p in self.params.items():
            spec = p.spec
            schema = spec.query_schema() if isinstance(spec, Money) else spec.schema()
            if p.default is not None:
                schema["default"] = p.default
            entry: dict[str, Any] = {"name": key, "in": "query", "required": False,
                                     "schema": schema}
            if p.repeated:
                entry.update(style="form", explode=True)
            if p.description:
                entry["description"] = p.description
            listed.append(entry)
        return listed

    def parse(self, given: Mapping[str, Any]) -> dict[str, Any]:
        values = {key: p.default for key, p in self.params.items()}
        for key, raw in given.items():
            p = self.params.get(key)
            if p is None:
                key = key[:100]
                raise ValidationError(
                    f"unknown query parameter {key!r}: this route takes "
                    f"{', '.join(self.params) or 'none'}", field=key, rule="unknown")
            if isinstance(raw, list) and not p.repeated:
                raise _fail(key, "must be given at most once", "repeated")
            values[key] = p.spec.parse_query(raw, key)
        return values


#: The falcon converter of path ids (``api.converters.IdConverter``).
PATH_ID_CONVERTER = "id"


def path_template(path: str, params: Mapping[str, Integer]) -> str:
    """The falcon route for an OpenAPI path: ``{id}`` -> ``{id:id(min=1, max=...)}``,
    so an id outside the range, or not written in ASCII digits, never reaches a
    responder (404)."""
    for key, spec in params.items():
        path = path.replace("{" + key + "}", f"{{{key}:{PATH_ID_CONVERTER}"
                                             f"(min={spec.minimum}, max={spec.maximum})}}")
    return path


def enum_of(values: Sequence[str], description: str = "") -> Text:
    return Text(enum=tuple(values), description=description)
