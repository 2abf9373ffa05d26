"""PostgreSQL's driver errors as ``azora_store.errors``, read from the SQLSTATE and
the server's diagnostics (constraint, table and column names).
"""

from __future__ import annotations

import re
from typing import Any

from playhouse.pool import MaxConnectionsExceeded

from ..errors import (
    AzoraError,
    DatabaseBusy,
    DatabaseError,
    DatabaseUnavailable,
    SchemaOutOfDate,
    ValidationError,
)
from ..models.catalogue import Catalogue
from .translate import app_error
from .urls import DatabaseURL

try:  # the optional driver
    import psycopg
except ImportError:  # pragma: no cover - exercised by a subprocess test
    psycopg = None


class PostgresErrors:
    """The ``translate_error`` half of ``PostgresBackend``."""

    catalogue: Catalogue
    url: DatabaseURL
    pool_size: int
    pool_timeout: float

    def translate_error(self, exc: BaseException, sql: str = "", params: Any = None
                        ) -> AzoraError:
        orig = getattr(exc, "orig", exc)
        if isinstance(orig, MaxConnectionsExceeded):
            return DatabaseBusy(f"all {self.pool_size} pooled connections stayed busy for "
                                f"{self.pool_timeout:g}s; raise ?max_connections= or "
                                "?pool_timeout= in the URL")
        sqlstate = getattr(orig, "sqlstate", None) or ""
        diag = getattr(orig, "diag", None)
        message = (getattr(diag, "message_primary", None) or str(orig)).strip()
        constraint = getattr(diag, "constraint_name", None)
        if sqlstate == "P0001":
            return app_error(message) or DatabaseError(message)
        if sqlstate == "23505":
            return self.catalogue.by_constraint(constraint) or self.catalogue.unique(
                getattr(diag, "table_name", "") or "", _key_columns(orig))
        if sqlstate == "23514":
            return self.catalogue.by_constraint(constraint) or ValidationError(
                f"a CHECK constraint failed: {constraint}", rule="check")
        if sqlstate == "23502":
            return self.catalogue.not_null(diag.table_name, diag.column_name)
        if sqlstate == "23503":
            deleted = re.match(r'update or delete on table "(\w+)"', message)
            if deleted:
                return self.catalogue.still_referenced(deleted.group(1))
            return self.catalogue.by_constraint(constraint) or self.catalogue.missing_reference(
                None, None)
        if sqlstate in ("40001", "40P01", "55P03"):
            return DatabaseBusy(f"the transaction collided with another one ({message}); "
                                "retry it")
        if sqlstate == "57014":
            return DatabaseBusy(f"the statement was cancelled: {message}")
        if sqlstate in ("42P01", "42703"):
            return SchemaOutOfDate(f"{message}: the schema is missing or older than this "
                                   "code; run `azora-store init`")
        if sqlstate.startswith("22"):
            return ValidationError(f"invalid value: {message}", rule="type")
        if sqlstate.startswith("08") or sqlstate.startswith("57P") or (
                psycopg is not None and isinstance(orig, psycopg.OperationalError)
                and not sqlstate):
            missing = _MISSING_DATABASE.search(message)
            if missing:
                return DatabaseUnavailable(
                    f"there is no database {missing.group(1)!r} on the PostgreSQL server "
                    f"at {self.url.host or '127.0.0.1'}:{self.url.port or 5432}: check the "
                    "name in the URL, or create it (createdb) and run `azora-store init --db "
                    f"{self.url.redacted()}`")
            return DatabaseUnavailable(f"cannot reach PostgreSQL at {self.url.redacted()}: "
                                       f"{' '.join(message.split())}")  # libpq's is 2 lines
        if any(text in message for text in _CONNECTION_LOST):
            return DatabaseUnavailable(f"lost the connection to PostgreSQL: {message}")
        return DatabaseError(f"PostgreSQL error {sqlstate}: {message}")


_MISSING_DATABASE = re.compile(r'database "([^"]*)" does not exist')


# Connection-lost messages after which one retry on a fresh connection is safe
# (outside a transaction only).
_CONNECTION_LOST = ("server closed the connection", "connection already closed",
                    "terminating connection", "the connection is closed",
                    "consuming input failed", "connection is lost")


def _key_columns(orig: BaseException) -> list[str]:
    """Column names from 'Key (a, b)=(...) already exists.' (values are dropped:
    they may be personal data)."""
    detail = getattr(getattr(orig, "diag", None), "message_detail", None) or ""
    match = re.match(r"Key \(([^)]*)\)=", detail)
    return [c.strip() for c in match.group(1).split(",")] if match else []
