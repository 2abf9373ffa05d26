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
import urllib.parse
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
from .base import (
    Backend,
    TranslatingDatabase,
    app_error,
    one_of,
    take_options,
    wait_for_lock,
    whole_number,
)
from .fts5 import Fts5Index
from .wakeups import DataVersionPoller, OutboxWaiter, Sleeper, WalWatcher

MIGRATION_LOCK_TIMEOUT = 600.0

INT32 = 2_147_483_647
_JOURNAL_MODES = ("wal", "delete", "truncate", "persist", "memory", "off")
#: Pragmas a URL may override, e.g. ``sqlite:///a.db?synchronous=normal``, with
#: the values each accepts (anything else is refused, naming them).
PRAGMA_OPTIONS: dict[str, Callable[[str], Any]] = {
    "journal_mode": one_of(*_JOURNAL_MODES),
    "synchronous": one_of("full", "extra", "normal", "off"),
    "busy_timeout": whole_number(0, INT32, " (ms)"),
    "cache_size": whole_number(-INT32 - 1, INT32, " (pages; negative: KiB)"),
    "mmap_size": whole_number(0, 2**63 - 1, " (bytes)"),
}
SYNCHRONOUS = {"0": "off", "1": "normal", "2": "full", "3": "extra"}  # PRAGMA's numbers
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
    #: Set by ``SqliteBackend.require_existing``: open the file read-write only
    #: if it exists (SQLite's ``mode=rw``), never create it.
    existing_only = False

    def _connect(self):
        if not self.existing_only or self.database == ":memory:":
            return super()._connect()
        if not os.path.exists(self.database):
            raise self.backend.missing_database()
        uri = "file:" + urllib.parse.quote(os.path.abspath(self.database)) + "?mode=rw"
        conn = sqlite3.connect(uri, timeout=self._timeout, isolation_level=None, uri=True,
                               **self.connect_params)
        try:
            self._add_conn_hooks(conn)
        except Exception:
            conn.close()
            raise
        return conn


class SqliteBackend(Backend):
    name = "sqlite"
    migration_dialect = "sqlite"
    driver_errors = (sqlite3.Error,)
    supports_skip_locked = False
    fulltext = Fts5Index()

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
        self.journal_mode = str(pragmas["journal_mode"]).lower()
        self.synchronous = str(pragmas["synchronous"]).lower()
        return AzoraSqliteDatabase(path, pragmas=pragmas, lock_type="IMMEDIATE",
                                   timeout=pragmas["busy_timeout"] / 1000,
                                   check_same_thread=False)

    def database_exists(self) -> bool:
        return self.path == ":memory:" or os.path.exists(self.path)

    @contextmanager
    def outbox_bookkeeping(self) -> Iterator[None]:
        """``synchronous=NORMAL`` for this transaction only (the WAL is synced by
        the next durable commit or checkpoint); the setting is per connection,
        so it is put back at once."""
        relax = self.synchronous in ("full", "extra")
        if relax:
            self.db.execute_sql("PRAGMA synchronous = NORMAL")
        try:
            with self.db.atomic():
                yield
        finally:
            if relax:
                self.db.execute_sql(f"PRAGMA synchronous = {self.synchronous.upper()}")

    def outbox_waiter(self) -> OutboxWaiter:
        """inotify on the WAL where there is one (no CPU while idle), else a
        ``PRAGMA data_version`` poll every few milliseconds."""
        if self.path == ":memory:":
            return Sleeper()  # no other connection can commit to it
        if self.journal_mode == "wal":
            try:
                return WalWatcher(self.path)
            except OSError:
                pass
        return DataVersionPoller(self.path)

    def require_existing(self) -> None:
        self.db.existing_only = True
        if not self.database_exists():
            raise self.missing_database()

    def missing_database(self) -> DatabaseUnavailable:
        return DatabaseUnavailable(
            f"there is no SQLite database at {os.path.abspath(self.path)} (nothing was "
            f"created): check the path, or create it with `azora-store init --db "
            f"{self.url.redacted()}`")

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

    def sql_string_agg(self, expression: str) -> str:
        return f"group_concat({expression}, '|')"

    def index_hint(self, index: str) -> str:
        return f" INDEXED BY {index}"

    def sql_json_object_agg(self, key: str, value: str) -> str:
        return f"json_group_object({key}, {value})"

    def sql_average(self, total: str, count: str) -> str:
        # AVG over integers is their sum as a double over the count
        return f"CASE WHEN {count} > 0 THEN ROUND(CAST({total} AS REAL) / {count}, 2) END"

    # -- bulk loading ------------------------------------------------------------

    @contextmanager
    def bulk_load(self, tables: Sequence[str], keep_indexes: Sequence[str] = (),
                  alongside: Callable[[], None] | None = None,
                  alongside_tables: Sequence[str] = ()) -> Iterator[None]:
        marks = ", ".join("?" for _ in tables)
        saved = [(kind, name, sql) for kind, name, table, sql in self._rows(
            f"SELECT type, name, tbl_name, sql FROM sqlite_master WHERE tbl_name IN ({marks}) "
            "AND type IN ('index', 'trigger') AND sql IS NOT NULL", tables)
            if kind == "trigger" or table not in keep_indexes]
        for kind, name, _ in saved:
            self.db.execute_sql(f'DROP {kind.upper()} "{name}"')
        journal, synchronous = (self._rows(f"PRAGMA {name}")[0][0]
                                for name in ("journal_mode", "synchronous"))
        # A rollback journal instead of WAL: pages appended to the file are not
        # journaled at all, where WAL writes every page twice (a 4M-row outbox
        # insert took 24 s instead of 40). A killed load still rolls back. It
        # takes only while no other connection has the file open: otherwise the
        # load stays in WAL, slower but the same.
        timeout = self._rows("PRAGMA busy_timeout")[0][0]
        self.db.execute_sql("PRAGMA busy_timeout = 0")
        try:
            self.db.execute_sql("PRAGMA journal_mode = DELETE")
        except DatabaseBusy:
            pass
        finally:
            self.db.execute_sql(f"PRAGMA busy_timeout = {int(timeout)}")
        self.db.execute_sql("PRAGMA foreign_keys = OFF")
        self.db.execute_sql("PRAGMA synchronous = OFF")
        self.db.execute_sql("PRAGMA ignore_check_constraints = ON")  # 9 us a row otherwise
        loaded = False
        try:
            yield
            loaded = True
        finally:
            for kind in ("index", "trigger"):  # indexes first: triggers may rely on them
                for saved_kind, _, sql in saved:
                    if saved_kind == kind:
                        self.db.execute_sql(sql)
            self.db.execute_sql("PRAGMA ignore_check_constraints = OFF")
            self.db.execute_sql("PRAGMA foreign_keys = ON")
            try:
                if alongside is not None and loaded:  # one writer: after the indexes
                    alongside()
                self.db.execute_sql("PRAGMA analysis_limit = 1000")  # sampled, not full scans
                self.db.execute_sql("ANALYZE")
            finally:
                self.db.execute_sql(f"PRAGMA synchronous = {int(synchronous)}")
                if journal in _JOURNAL_MODES:  # what SQLite itself reported
                    self.db.execute_sql(f"PRAGMA journal_mode = {journal}")

    def bulk_load_aside(self) -> None:
        # One writer per file. Loading the outbox into a file of its own and
        # moving it in (SQLite's transfer copy, 17 s for 10M events) was measured
        # slower here: the two loads shared the disk and 2 cores (large seed
        # 231 -> 333 s), so the load runs after the index rebuild.
        return None

    def sql_series(self, first: int, last: int) -> str:
        return (f"WITH RECURSIVE seq(i) AS (SELECT {int(first)} UNION ALL SELECT i + 1 "
                f"FROM seq WHERE i < {int(last)})")

    def rebuild_job_search(self) -> None:
        layout = self._rows("SELECT sql FROM sqlite_master WHERE name = 'jobs_fts'")
        newest_first = bool(layout) and self._content_rowid(True) in layout[0][0]  # 0013 on
        self.db.execute_sql("INSERT INTO jobs_fts(jobs_fts) VALUES ('delete-all')")
        for sql in self._fts_fill(newest_first):
            self.db.execute_sql(sql)

    @staticmethod
    def _content_rowid(newest_first: bool) -> str:
        """The FTS5 option naming the view column its rowid comes from."""
        return f"content_rowid='{'rid' if newest_first else 'id'}'"

    @staticmethod
    def _fts_fill(newest_first: bool) -> list[str]:
        """Index every OPEN, undeleted job in ascending FTS rowid order (FTS5
        flushes a segment whenever a rowid is lower than the last one: filled
        the other way, a large seed's index took 115 s instead of 4), then merge
        the segments into one (fast reads)."""
        rowid, order = ("-s.id", "s.id DESC") if newest_first else ("s.id", "s.id")
        return [f"INSERT INTO jobs_fts(rowid, title, description, skills) SELECT {rowid}, "
                "s.title, s.description, s.skills FROM jobs_search_source AS s JOIN jobs AS j "
                f"ON j.id = s.id WHERE j.status = 'OPEN' AND j.deleted_at IS NULL ORDER BY {order}",
                "INSERT INTO jobs_fts(jobs_fts) VALUES ('optimize')"]

    def copy_rows(self, table: str, columns: Sequence[str], rows: Any) -> int:
        sql = (f'INSERT INTO "{table}" ({", ".join(columns)}) '
               f'VALUES ({", ".join("?" for _ in columns)})')
        with self.db.atomic():
            cursor = self.db.cursor()
            cursor.executemany(sql, rows)
            return cursor.rowcount

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

    setting_warnings = (
        ("journal_mode", ("wal",),
         "not the documented wal: readers and writers block each other (delete, truncate, "
         "persist) or a crash can corrupt the database (memory, off); use journal_mode=wal"),
        ("synchronous", ("full", "extra"),
         "weaker than the documented full: a committed transaction can be lost on power "
         "loss (normal) or on a crash of the machine (off)"),
        ("foreign_keys", ("1",), "foreign keys are not enforced"),
    )

    def settings(self) -> dict[str, str]:
        names = ("journal_mode", "synchronous", "foreign_keys", "busy_timeout", "cache_size",
                 "mmap_size", "page_size", "page_count", "freelist_count", "temp_store")
        values = {name: str(self.db.execute_sql(f"PRAGMA {name}").fetchone()[0])
                  for name in names}
        values["synchronous"] = SYNCHRONOUS.get(values["synchronous"], values["synchronous"])
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

    def full_scans(self, sql: str, plan: list[str]) -> list[str]:
        # "SCAN j" with no USING clause reads the whole table; plans name the
        # alias, so map it back through the statement's FROM/JOIN clauses.
        aliases = {alias: table for table, alias in _TABLE_REFERENCE.findall(sql)}
        tables = {r[0] for r in self._rows("SELECT name FROM sqlite_master WHERE type = 'table'")}
        scanned = []
        for line in plan:
            found = _FULL_SCAN.match(line.strip())
            if found and aliases.get(found.group(1), found.group(1)) in tables:
                scanned.append(aliases.get(found.group(1), found.group(1)))
        return scanned

    def estimated_rows(self, table: str) -> int:
        try:  # the largest rowid: one b-tree descent
            return int(self._rows(f'SELECT MAX(rowid) FROM "{table}"')[0][0] or 0)
        except AzoraError:
            return int(self._rows(f'SELECT COUNT(*) FROM "{table}"')[0][0])

    def server_version(self) -> str:
        return sqlite3.sqlite_version


_TABLE_REFERENCE = re.compile(r'(?:FROM|JOIN)\s+"?(\w+)"?\s+AS\s+"?(\w+)"?', re.IGNORECASE)
_FULL_SCAN = re.compile(r"^SCAN (\w+)$")
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
