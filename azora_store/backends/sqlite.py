"""SQLite: the embedded default (laptops, edge nodes, CI).

WAL journal, foreign keys on, a busy timeout, and ``BEGIN IMMEDIATE`` for every
transaction (peewee's ``lock_type``), so a read-then-write never fails halfway
with "database is locked": writers queue for the one write lock up front.

This module holds the connection (pragmas, locks, outbox wake-ups), the SQL
fragments, the full-text hooks and bulk loading; ``sqlite_errors`` translates
driver errors and ``sqlite_schema`` reads the schema, settings and plans.
"""

from __future__ import annotations

import json
import os
import sqlite3
import threading
import time
import urllib.parse
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from typing import Any

import peewee

from ..errors import (
    ConfigurationError,
    DatabaseBusy,
    DatabaseUnavailable,
)
from .base import (
    Backend,
    TranslatingDatabase,
    one_of,
    take_options,
    wait_for_lock,
    whole_number,
)
from .fts5 import Fts5Index
from .sqlite_errors import SqliteErrors
from .sqlite_schema import SqliteIntrospection
from .sqlite_turns import WriterTurns
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


SQLITE_BUSY = 5  # the primary result code of "database is locked"


class AzoraSqliteDatabase(TranslatingDatabase, peewee.SqliteDatabase):
    #: Set by ``SqliteBackend.require_existing``: open the file read-write only
    #: if it exists (SQLite's ``mode=rw``), never create it.
    existing_only = False

    #: First and longest pause (seconds) between tries for the write lock.
    LOCK_RETRY_FIRST, LOCK_RETRY_MAX = 0.0001, 0.001

    def begin(self, lock_type=None):
        """``BEGIN IMMEDIATE`` once this connection has its turn among the
        package's writers (``sqlite_turns``: waiting writers sleep in the kernel
        and are served in rounds, where polling for a free lock let a busy
        producer's commits starve a worker), then retried after 0.1, 0.2, 0.4,
        0.8 ms, then every 1 ms while a writer that takes no turns holds the
        lock, all within the busy timeout. (SQLite's own busy handler sleeps 1,
        2, 5, 10, ... up to 100 ms between tries.) The turn is given back at
        COMMIT or ROLLBACK."""
        lock_type = lock_type or self._lock_type
        if not lock_type or lock_type.upper() == "DEFERRED":
            return super().begin(lock_type)
        conn = self.connection()
        deadline = time.monotonic() + self._timeout
        turns = self._turns()
        conn.execute("PRAGMA busy_timeout = 0")
        try:
            if turns is None or turns.take(self._timeout):
                pause = self.LOCK_RETRY_FIRST
                while time.monotonic() < deadline:
                    try:
                        conn.execute(f"BEGIN {lock_type}")
                        return None
                    except sqlite3.OperationalError as exc:
                        if getattr(exc, "sqlite_errorcode", SQLITE_BUSY) & 0xFF != SQLITE_BUSY:
                            break  # not the lock: let the translated error through
                    time.sleep(pause)
                    pause = min(pause * 2, self.LOCK_RETRY_MAX)
            return super().begin(lock_type)  # one last try, or the translated error
        except BaseException:
            if turns is not None:
                turns.give_back()
            raise
        finally:
            conn.execute(f"PRAGMA busy_timeout = {int(self._timeout * 1000)}")

    def commit(self):
        try:
            return super().commit()
        finally:
            self._give_back_turn()

    def rollback(self):
        try:
            return super().rollback()
        finally:
            self._give_back_turn()

    def _local_turns(self) -> threading.local:
        return self.__dict__.get("_turns_local") or self.__dict__.setdefault(
            "_turns_local", threading.local())

    def take_turns(self, fair: bool) -> None:
        """Whether this thread's write transactions take turns (the default).
        A sync worker draining a backlog in full batches turns them off: two
        such workers handing the lock to each other after every batch drained
        5-10% slower than one going on while the other retries."""
        self._local_turns().fair = fair

    def _turns(self) -> WriterTurns | None:
        """This thread's connection's turns (opened with it, closed with it);
        None while it takes none (``take_turns(False)``)."""
        local = self._local_turns()
        if not getattr(local, "fair", True):
            return None
        if not hasattr(local, "turns"):
            local.turns = WriterTurns.beside(self.database)
        return local.turns

    def _give_back_turn(self) -> None:
        turns = getattr(self.__dict__.get("_turns_local"), "turns", None)
        if turns is not None:
            turns.give_back()

    def _close(self, conn):
        try:
            super()._close(conn)
        finally:
            local = self.__dict__.get("_turns_local")
            turns = getattr(local, "turns", None)
            if turns is not None:
                turns.close()
                del local.turns

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


class SqliteBackend(SqliteErrors, SqliteIntrospection, Backend):
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
        so it is put back at once. The two pragmas go straight to the driver:
        through peewee they were a tenth of a one-event round's Python time."""
        relax = self.synchronous in ("full", "extra")
        if relax:
            self._pragma("PRAGMA synchronous = NORMAL")
        try:
            with self.db.atomic():
                yield
        finally:
            if relax:
                self._pragma(f"PRAGMA synchronous = {self.synchronous.upper()}")

    def _pragma(self, sql: str) -> None:
        try:
            self.db.connection().execute(sql)
        except sqlite3.Error as exc:
            raise self.translate_error(exc, sql) from exc

    #: One writer at a time: a worker that claimed a partial batch and claimed
    #: again at once would take a turn after every commit of a busy producer
    #: (one or two events a claim, the producer held to ~1,200 commits/s). A
    #: millisecond's pause lets the events of a few commits gather instead.
    claim_gather = 0.001

    def outbox_draining(self, draining: bool) -> None:
        self.db.take_turns(not draining)

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

    # -- bulk loading (and rebuilding what it bypassed) ----------------------------

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


