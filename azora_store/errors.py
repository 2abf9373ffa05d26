"""The package's own error classes.

Callers never see ``sqlite3.*``, ``psycopg.*`` or ``peewee.*`` exceptions: the
backend translates driver errors at its boundary into these classes. Every
message is a sentence a person can act on; ``field`` and ``rule`` are set
whenever a single input is at fault so an API can point at it.

This module imports nothing heavy: ``import azora_store`` stays light.
"""

from __future__ import annotations


class AzoraError(Exception):
    """Base class of every error azora_store raises on purpose."""

    code = "error"

    def __init__(self, message: str, *, field: str | None = None, rule: str | None = None):
        super().__init__(message)
        self.message = message
        self.field = field
        self.rule = rule

    def __str__(self) -> str:
        return self.message


class ConfigurationError(AzoraError):
    """The URL, an option, a key or an installed extra is wrong or missing."""

    code = "configuration"


class ValidationError(AzoraError, ValueError):
    """An input breaks a rule: a type, a range, an enumeration, a reference."""

    code = "validation"


class NotFound(AzoraError, LookupError):
    """The row asked for does not exist (or is soft-deleted)."""

    code = "not_found"


class Conflict(AzoraError):
    """The request collides with existing state: a unique key, an idempotency key
    reused with a different request, or a row still referenced by others."""

    code = "conflict"


class InvalidTransition(AzoraError):
    """A state machine was asked to move along an edge it does not have."""

    code = "invalid_transition"

    def __init__(self, entity: str, from_state: str | None, to_state: str, detail: str = ""):
        msg = f"{entity} cannot go from {from_state} to {to_state}"
        super().__init__(msg + (f": {detail}" if detail else "."), field="status")
        self.entity = entity
        self.from_state = from_state
        self.to_state = to_state


class InsufficientFunds(AzoraError):
    """A transfer would take an account or an escrow below zero."""

    code = "insufficient_funds"


class Forbidden(AzoraError):
    """The caller is known but lacks the scope or ownership the action needs."""

    code = "forbidden"


class DatabaseError(AzoraError):
    """The database failed for a reason that is not the caller's input."""

    code = "database"


class DatabaseBusy(DatabaseError):
    """A lock or a pool slot was not obtained in time; retrying may succeed."""

    code = "busy"


class DatabaseUnavailable(DatabaseError):
    """The database server cannot be reached."""

    code = "unavailable"


class SchemaOutOfDate(DatabaseError):
    """The database schema is older than this code: run ``azora-store init``."""

    code = "schema"


__all__ = [
    "AzoraError",
    "ConfigurationError",
    "Conflict",
    "DatabaseBusy",
    "DatabaseError",
    "DatabaseUnavailable",
    "Forbidden",
    "InsufficientFunds",
    "InvalidTransition",
    "NotFound",
    "SchemaOutOfDate",
    "ValidationError",
]
