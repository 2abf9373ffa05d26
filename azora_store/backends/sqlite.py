"""SQLite: the embedded default (laptops, edge nodes, CI).

WAL journal, foreign keys on, a busy timeout, and ``BEGIN IMMEDIATE`` for every
transaction (peewee's ``lock_type``), so a read-then-write never fails halfway
with "database is locked": writers queue for the one write lock up front.
"""

from __future__ import annotations

import json
import os
import re
import sqlite3
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from typing import Any

import peewee

from ..errors import (
    AzoraError,
    ConfigurationError,
    DatabaseBusy,
    DatabaseError,
    DatabaseUnavailable,
    SchemaOutOfDate,
    ValidationError,
)
from ..models.fields import CompositeForeignKey
from .base import Backend, TranslatingDatabase, app_error, take_options, wait_for_lock

NOW = "strftime('%Y-%m-%d %H:%M:%f', 'now')"
MIGRATION_LOCK_TIMEOUT = 600.0

#: Pragmas a URL may override, e.g. ``sqlite:///a.db?synchronous=normal``.
PRAGMA_OPTIONS: dict[str, Callable[[str], Any]] = {
    "journal_mode": str,
    "synchronous": str,
    "busy_timeout": int,
    "cache_size": int,
    "mmap_size": int,
}
DEFAULT_PRAGMAS: dict[str, Any] = {
    "journal_mode": "wal",
    # FULL: a committed transaction survives power loss, not only a crash.
    "synchronous": "full",
    "busy_timeout": 10_000,
    "cache_size": -65_536,  # 64 MiB
    "mmap_size": 268_435_456,  # 256 MiB
    "temp_store": "memory",
    "foreign_keys": 1,
}


class AzoraSqliteDatabase(TranslatingDatabase, peewee.SqliteDatabase):
    pass


class SqliteBackend(Backend):
    name = "sqlite"
    driver_errors = (sqlite3.Error,)
    supports_skip_locked = False

    def create_database(self) -> peewee.Database:
        path = self.url.database
        if self.url.host or not path:
            raise ConfigurationError(
                f"{self.url.raw!r} names no file: SQLite URLs have three slashes before a "
                "relative path (sqlite:///azora.db) and four before an absolute one "
                "(sqlite:////var/lib/azora.db)")
        if path != ":memory:":
            directory = os.path.dirname(os.path.abspath(path))
            if not os.path.isdir(directory):
                raise ConfigurationError(f"cannot create {path}: directory {directory} "
                                         "does not exist")
        pragmas = dict(DEFAULT_PRAGMAS)
        pragmas.update(take_options(self.url, PRAGMA_OPTIONS))
        self.path = path
        return AzoraSqliteDatabase(path, pragmas=pragmas, lock_type="IMMEDIATE",
                                   timeout=pragmas["busy_timeout"] / 1000,
                                   check_same_thread=False)

    def database_exists(self) -> bool:
        return self.path == ":memory:" or os.path.exists(self.path)

    # -- errors ----------------------------------------------------------------

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

    # -- locks -----------------------------------------------------------------

    @contextmanager
    def migration_lock(self, on_wait: Callable[[str], None] | None = None) -> Iterator[None]:
        """One IMMEDIATE transaction around the whole run: a second runner waits
        for the write lock, then finds every migration applied. Each migration
        runs in a savepoint, so what completed is committed even if a later one
        fails."""
        transaction = self.db.atomic()

        def try_begin() -> bool:
            try:
                transaction.__enter__()
            except DatabaseBusy:
                return False
            return True

        wait_for_lock(try_begin, "another migration runner (SQLite write lock)",
                      MIGRATION_LOCK_TIMEOUT, on_wait)
        try:
            yield
        finally:
            transaction.__exit__(None, None, None)

    def lock_named(self, name: str) -> None:
        """Nothing to do: an IMMEDIATE transaction already excludes every writer."""

    # -- DDL -------------------------------------------------------------------

    def updated_at_triggers(self, tables: Sequence[str]) -> list[str]:
        # SQLite cannot assign NEW in a BEFORE trigger: update the row after.
        return [f"""CREATE TRIGGER trg_{table}_updated_at AFTER UPDATE ON "{table}"
FOR EACH ROW WHEN NEW.updated_at IS OLD.updated_at
BEGIN
    UPDATE "{table}" SET updated_at = {NOW} WHERE rowid = NEW.rowid;
END""" for table in tables]

    def drop_updated_at_triggers(self, tables: Sequence[str]) -> list[str]:
        return [f"DROP TRIGGER IF EXISTS trg_{table}_updated_at" for table in tables]

    def append_only_triggers(self, tables: Sequence[str]) -> list[str]:
        return [
            f"""CREATE TRIGGER trg_{table}_no_{op.lower()} BEFORE {op} ON "{table}"
BEGIN
    SELECT RAISE(ABORT, 'azora|conflict||{table} is append-only: {op} is refused');
END"""
            for table in tables for op in ("UPDATE", "DELETE")
        ]

    def drop_append_only_triggers(self, tables: Sequence[str]) -> list[str]:
        return [f"DROP TRIGGER IF EXISTS trg_{table}_no_{op}"
                for table in tables for op in ("update", "delete")]

    def transfer_balance_trigger(self) -> list[str]:
        return [f"""CREATE TRIGGER trg_transfers_apply AFTER INSERT ON transfers
FOR EACH ROW
BEGIN
    UPDATE accounts
       SET balance_minor = balance_minor + CASE WHEN id = NEW.to_account_id
                                                THEN NEW.amount_minor
                                                ELSE -NEW.amount_minor END,
           updated_at = {NOW}
     WHERE id IN (NEW.from_account_id, NEW.to_account_id);
END"""]

    def drop_transfer_balance_trigger(self) -> list[str]:
        return ["DROP TRIGGER IF EXISTS trg_transfers_apply"]

    def job_search_ddl(self) -> list[str]:
        indexed = "{row}.status = 'OPEN' AND {row}.deleted_at IS NULL"
        new, old = indexed.format(row="NEW"), indexed.format(row="OLD")
        return [
            "CREATE VIRTUAL TABLE jobs_fts USING fts5(title, description, content='jobs', "
            "content_rowid='id', tokenize='porter unicode61')",
            f"""CREATE TRIGGER trg_jobs_fts_insert AFTER INSERT ON jobs WHEN {new}
BEGIN
    INSERT INTO jobs_fts(rowid, title, description) VALUES (NEW.id, NEW.title, NEW.description);
END""",
            f"""CREATE TRIGGER trg_jobs_fts_delete AFTER DELETE ON jobs WHEN {old}
BEGIN
    INSERT INTO jobs_fts(jobs_fts, rowid, title, description)
    VALUES ('delete', OLD.id, OLD.title, OLD.description);
END""",
            f"""CREATE TRIGGER trg_jobs_fts_update AFTER UPDATE OF title, description, status,
deleted_at ON jobs
BEGIN
    INSERT INTO jobs_fts(jobs_fts, rowid, title, description)
    SELECT 'delete', OLD.id, OLD.title, OLD.description WHERE {old};
    INSERT INTO jobs_fts(rowid, title, description)
    SELECT NEW.id, NEW.title, NEW.description WHERE {new};
END""",
            "INSERT INTO jobs_fts(rowid, title, description) SELECT id, title, description "
            "FROM jobs WHERE status = 'OPEN' AND deleted_at IS NULL",
        ]

    def drop_job_search_ddl(self) -> list[str]:
        return [
            "DROP TRIGGER IF EXISTS trg_jobs_fts_insert",
            "DROP TRIGGER IF EXISTS trg_jobs_fts_delete",
            "DROP TRIGGER IF EXISTS trg_jobs_fts_update",
            "DROP TABLE IF EXISTS jobs_fts",
        ]

    def sync_counter_triggers(self) -> list[str]:
        # Plain UPDATEs of existing counter rows: SQLite runs an UPSERT inside a
        # trigger about four times slower. The insert trigger creates the rows a
        # (service, status) needs; a raw UPDATE that changes an event's service
        # creates them too.
        def bump(row: str, delta: str) -> str:
            return (f"UPDATE sync_counters SET count = count + {delta} "
                    f"WHERE service = {row}.service AND status = {row}.status;")

        def ensure(row: str) -> str:
            return (f"INSERT OR IGNORE INTO sync_counters (service, status, count) "
                    f"VALUES ({row}.service, {row}.status, 0);")

        return [
            f"""CREATE TRIGGER trg_service_sync_count_insert AFTER INSERT ON service_sync
BEGIN
    {ensure("NEW")}
    {bump("NEW", "1")}
END""",
            f"""CREATE TRIGGER trg_service_sync_count_update AFTER UPDATE OF status ON service_sync
WHEN OLD.status IS NOT NEW.status AND OLD.service IS NEW.service
BEGIN
    {ensure("NEW")}
    {bump("OLD", "-1")}
    {bump("NEW", "1")}
END""",
            f"""CREATE TRIGGER trg_service_sync_count_move AFTER UPDATE OF service ON service_sync
WHEN OLD.service IS NOT NEW.service
BEGIN
    {ensure("NEW")}
    {bump("OLD", "-1")}
    {bump("NEW", "1")}
END""",
            f"""CREATE TRIGGER trg_service_sync_count_delete AFTER DELETE ON service_sync
BEGIN
    {bump("OLD", "-1")}
END""",
        ]

    def drop_sync_counter_triggers(self) -> list[str]:
        return [f"DROP TRIGGER IF EXISTS trg_service_sync_count_{op}"
                for op in ("insert", "update", "move", "delete")]

    def sql_in(self, column: str) -> str:
        return f"{column} IN (SELECT value FROM json_each(?))"

    def sql_list_values(self) -> str:
        return "SELECT value FROM json_each(?)"

    def list_param(self, values: Sequence[Any]) -> Any:
        return json.dumps(list(values))

    def datetime_param(self, value: Any) -> Any:
        return str(value) if value is not None else None

    def read_datetime(self, value: Any) -> Any:
        return datetime.fromisoformat(value) if isinstance(value, str) else value

    def sql_date(self, column: str) -> str:
        return f"date({column})"

    def sql_json_object_agg(self, key: str, value: str) -> str:
        return f"json_group_object({key}, {value})"

    # -- introspection ---------------------------------------------------------

    def _rows(self, sql: str, params: Sequence[Any] = ()) -> list[tuple]:
        return list(self.db.execute_sql(sql, params).fetchall())

    def schema_snapshot(self) -> dict[str, Any]:
        objects = self._rows("SELECT type, name, tbl_name, sql FROM sqlite_master "
                             "WHERE name NOT LIKE 'sqlite_%' ORDER BY type, name")
        snapshot: dict[str, Any] = {"tables": {}, "indexes": {}, "triggers": {}, "views": {}}
        for kind, name, table, sql in objects:
            if kind == "table":
                snapshot["tables"][name] = self._describe_table(name, sql or "")
            elif kind == "index" and sql:
                snapshot["indexes"][name] = (table, _normalise(sql))
            elif kind in ("trigger", "view"):
                snapshot[kind + "s"][name] = (table, _normalise(sql))
        return snapshot

    def _describe_table(self, table: str, sql: str) -> dict[str, Any]:
        columns = {name: {"type": ctype.upper(), "nullable": not notnull,
                          "default": default, "pk": pk}
                   for _, name, ctype, notnull, default, pk, _hidden
                   in self._rows(f'PRAGMA table_xinfo("{table}")')}
        fks = sorted((row[3], row[2], row[4], row[6]) for row in
                     self._rows(f'PRAGMA foreign_key_list("{table}")'))
        unique = sorted(
            tuple(r[2] for r in self._rows(f"PRAGMA index_info(\"{name}\")"))
            for _, name, is_unique, origin, _partial in
            self._rows(f'PRAGMA index_list("{table}")') if is_unique and origin != "c")
        return {"columns": columns, "foreign_keys": fks, "checks": _named_checks(sql),
                "implicit_unique": unique}

    def settings(self) -> dict[str, str]:
        names = ("journal_mode", "synchronous", "foreign_keys", "busy_timeout", "cache_size",
                 "mmap_size", "page_size", "page_count", "freelist_count", "temp_store")
        values = {name: str(self.db.execute_sql(f"PRAGMA {name}").fetchone()[0])
                  for name in names}
        values["lock_type"] = "IMMEDIATE"
        values["file"] = os.path.abspath(self.path) if self.path != ":memory:" else ":memory:"
        return values

    def explain(self, sql: str, params: Sequence[Any] = ()) -> list[str]:
        rows = self._rows("EXPLAIN QUERY PLAN " + sql, params)
        depth: dict[int, int] = {0: 0}
        lines = []
        for node_id, parent, _, detail in rows:
            depth[node_id] = depth.get(parent, 0) + 1
            lines.append("  " * (depth[node_id] - 1) + detail)
        return lines

    def server_version(self) -> str:
        return sqlite3.sqlite_version


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


def _normalise(sql: str) -> str:
    return " ".join(sql.replace("IF NOT EXISTS ", "").split())


_CHECK_START = re.compile(r'CONSTRAINT\s+"?(\w+)"?\s+CHECK\s*\(', re.IGNORECASE)


def _named_checks(table_sql: str) -> dict[str, str]:
    """Named CHECK constraints of a CREATE TABLE statement (balanced parentheses)."""
    checks = {}
    for match in _CHECK_START.finditer(table_sql):
        depth, start = 1, match.end()
        position = start
        while depth and position < len(table_sql):
            depth += {"(": 1, ")": -1}.get(table_sql[position], 0)
            position += 1
        checks[match.group(1)] = " ".join(table_sql[start:position - 1].split())
    return checks
