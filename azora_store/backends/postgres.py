"""PostgreSQL (production): psycopg 3 through a bounded connection pool.

The driver is optional (``pip install 'azora_store[pg]'``); this module
imports without it so that asking for a Postgres URL can say what to install.
Every session runs in UTC with parallel query off: the four target queries are
short index walks where parallel workers only add start-up latency.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import peewee
from playhouse.pool import MaxConnectionsExceeded, PooledPostgresqlDatabase

from .. import jsonutil
from ..errors import (
    AzoraError,
    ConfigurationError,
    DatabaseBusy,
    DatabaseError,
    DatabaseUnavailable,
    SchemaOutOfDate,
    ValidationError,
)
from ..extras import missing_extra
from ..replicas.options import replica_options, replica_settings
from ..threads import in_background
from .base import (
    Backend,
    DatabaseURL,
    TranslatingDatabase,
    app_error,
    one_of,
    printable,
    seconds,
    take_options,
    wait_for_lock,
    whole_number,
)
from .gin import (
    GinIndex,
)
from .wakeups import OutboxWaiter, PostgresListener

try:  # the optional driver
    import psycopg
    from psycopg.types.json import set_json_loads
except ImportError:  # pragma: no cover - exercised by a subprocess test
    psycopg = None

MIGRATION_LOCK_KEY = 7_240_183_201  # pg_advisory_lock key of the migration runner
MIGRATION_LOCK_TIMEOUT = 600.0
OUTBOX_VACUUM_LOCK_KEY = 7_240_183_202
SYNC_FOLD_LOCK_KEY = 7_240_183_203
VACUUM_THRESHOLDS = {"service_sync": 50_000, "sync_counter_deltas": 5_000}
INT32 = 2_147_483_647
SESSION_OPTIONS = "-c timezone=UTC -c max_parallel_workers_per_gather=0"
OPEN_JOB = "status = 'OPEN' AND deleted_at IS NULL"
#: Set (transaction-local) while job_skills triggers refresh their jobs' vectors.
SEARCH_REFRESH = "azora.search_refresh"

#: Options a URL may carry, e.g. ``postgresql://u@h/db?max_connections=40``.
URL_OPTIONS: dict[str, Callable[[str], Any]] = {
    "max_connections": whole_number(1, 10_000),  # pool size per process
    "pool_timeout": seconds(0, 3_600),  # to wait for a free pooled connection
    "stale_timeout": whole_number(1, INT32, " (seconds)"),  # idle connections recycled
    "connect_timeout": whole_number(1, 3_600, " (seconds)"),
    "statement_timeout": whole_number(0, INT32, " (ms; 0 = none)"),
    "application_name": printable(63),  # Postgres keeps 63 bytes of it
    "sslmode": one_of("disable", "allow", "prefer", "require", "verify-ca", "verify-full"),
}
_MISSING_DATABASE = re.compile(r'database "([^"]*)" does not exist')
# Connection-lost messages after which one retry on a fresh connection is safe
# (outside a transaction only).
_CONNECTION_LOST = ("server closed the connection", "connection already closed",
                    "terminating connection", "the connection is closed",
                    "consuming input failed", "connection is lost")


if psycopg is not None:
    class _Cursor(psycopg.Cursor):
        """peewee passes ``()`` for "no parameters"; psycopg would then read every
        ``%`` in the SQL (``LIKE '%@%'`` in a CHECK) as a placeholder."""

        def execute(self, query, params=None, **kwargs):
            return super().execute(query, params or None, **kwargs)


class AzoraPostgresDatabase(TranslatingDatabase, PooledPostgresqlDatabase):
    #: Called after each commit (the read router's, when there are replicas).
    after_commit_hook: Callable[[], None] | None = None

    def commit(self):
        result = super().commit()
        if self.after_commit_hook is not None:
            self.after_commit_hook()
        return result

    def _initialize_connection(self, conn):
        if not getattr(conn, "_azora_ready", False):
            conn.cursor_factory = _Cursor
            # JSON numbers that are not integers come back as Decimal, never float.
            set_json_loads(jsonutil.loads, conn)
            conn._azora_ready = True

    def execute_sql(self, sql, params=None):
        try:
            return super().execute_sql(sql, params)
        except DatabaseUnavailable:
            if self.in_transaction() or self.is_closed():  # in a transaction, or no connection
                raise  # could be opened at all: a retry would only wait as long again
            # The server restarted or dropped us: pooled connections are stale.
            self.close()
            self.close_idle()
            return super().execute_sql(sql, params)


class PostgresBackend(Backend):
    name = "postgresql"
    migration_dialect = "postgresql"
    driver_errors = (MaxConnectionsExceeded, *((psycopg.Error,) if psycopg else ()))
    supports_skip_locked = True
    supports_row_locks = True
    supports_replicas = True
    pools_connections = True
    fulltext = GinIndex()

    def create_database(self) -> peewee.Database:
        if psycopg is None:
            raise missing_extra("psycopg", "PostgreSQL support")
        if not self.url.database:
            raise ConfigurationError(f"{self.url.redacted()} names no database: use "
                                     "postgresql://user@host:5432/dbname")
        options = take_options(self.url, {**URL_OPTIONS, **replica_options()})
        self.replica_settings = replica_settings(self.url, options)
        session = SESSION_OPTIONS
        if options.get("statement_timeout"):
            session += f" -c statement_timeout={options['statement_timeout']}"
        connect = {"host": self.url.host or "127.0.0.1", "port": self.url.port or 5432,
                   "user": self.url.username, "password": self.url.password,
                   "connect_timeout": options.get("connect_timeout", 5),
                   "application_name": options.get("application_name", "azora_store"),
                   "options": session}
        if "sslmode" in options:
            connect["sslmode"] = options["sslmode"]
        connect_args = {k: v for k, v in connect.items() if v is not None}
        self.pool_size = options.get("max_connections", 20)
        self.pool_timeout = options.get("pool_timeout", 10.0)
        return AzoraPostgresDatabase(
            self.url.database, prefer_psycopg3=True,
            max_connections=self.pool_size, timeout=self.pool_timeout,
            stale_timeout=options.get("stale_timeout", 300), **connect_args)

    def __init__(self, url: DatabaseURL):
        super().__init__(url)
        if self.replica_settings is not None:
            from ..replicas.router import ReadRouter

            self.reads = ReadRouter(self, self.replica_settings)
            self.db.after_commit_hook = self.reads.committed
            self.fetch = self._routed_fetch  # type: ignore[method-assign]

    def close(self) -> None:
        """Return this thread's connection and close every pooled one (the
        replicas' too)."""
        super().close()
        self.db.close_all()
        if self.reads is not None:
            self.reads.close()

    def _routed_fetch(self, sql: str, params: Sequence[Any], plan_each_time: bool = False
                      ) -> list[tuple]:
        """``fetch`` when the URL names replicas: inside a read path's scope, on
        the replica it chose (see replicas/router.py). Installed on the instance
        only then, so a database without replicas pays nothing for it."""
        replica = self.reads.target()
        if replica is not None:
            return self.reads.fetch_on(replica, sql, params, plan_each_time)
        return Backend.fetch(self, sql, params, plan_each_time)

    # -- errors ----------------------------------------------------------------

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

    # -- locks -----------------------------------------------------------------

    @contextmanager
    def migration_lock(self, on_wait: Callable[[str], None] | None = None) -> Iterator[None]:
        """A session advisory lock: a second runner waits, then finds nothing to do.
        Each migration still commits on its own, so a failure keeps earlier ones."""
        self.db.connect(reuse_if_open=True)

        def try_lock() -> bool:
            return bool(self.db.execute_sql("SELECT pg_try_advisory_lock(%s)",
                                            (MIGRATION_LOCK_KEY,)).fetchone()[0])

        wait_for_lock(try_lock, "another migration runner (advisory lock)",
                      MIGRATION_LOCK_TIMEOUT, on_wait)
        try:
            yield
        finally:
            self.db.execute_sql("SELECT pg_advisory_unlock(%s)", (MIGRATION_LOCK_KEY,))

    def lock_named(self, name: str) -> None:
        self.db.execute_sql("SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))", (name,))

    def sql_in(self, column: str) -> str:
        return f"{column} = ANY(%s)"

    def sql_list_values(self) -> str:
        return "SELECT unnest(%s) AS value"

    def list_param(self, values: Sequence[Any]) -> Any:
        return list(values)

    def fold_sync_counters(self) -> int:
        """Move the count deltas into sync_counters in one statement. One folder
        at a time (a transaction-level advisory lock; others skip). Deltas of
        transactions still in flight stay for the next fold."""
        with self.db.atomic():
            if not self.db.execute_sql("SELECT pg_try_advisory_xact_lock(%s)",
                                       (SYNC_FOLD_LOCK_KEY,)).fetchone()[0]:
                return 0
            return self.db.execute_sql(
                "WITH moved AS (DELETE FROM sync_counter_deltas RETURNING service, status, "
                "delta), folded AS (INSERT INTO sync_counters (service, status, count) "
                "SELECT service, status, SUM(delta) FROM moved GROUP BY service, status "
                "ORDER BY service, status ON CONFLICT (service, status) "
                "DO UPDATE SET count = sync_counters.count + EXCLUDED.count) "
                "SELECT COUNT(*) FROM moved").fetchone()[0]

    def outbox_maintenance(self) -> str | None:
        """VACUUM the outbox tables when dead rows pile up (this server may run
        with autovacuum off); only one worker at a time does it."""
        rows = self.db.execute_sql(
            "SELECT relname, n_dead_tup FROM pg_stat_user_tables "
            "WHERE relname IN ('service_sync', 'sync_counter_deltas')").fetchall()
        due = [name for name, dead in rows if dead >= VACUUM_THRESHOLDS[name]]
        if not due:
            return None
        if not self.db.execute_sql("SELECT pg_try_advisory_lock(%s)",
                                   (OUTBOX_VACUUM_LOCK_KEY,)).fetchone()[0]:
            return None
        try:
            for name in due:
                self.db.execute_sql(f"VACUUM (ANALYZE) {name}")
        finally:
            self.db.execute_sql("SELECT pg_advisory_unlock(%s)", (OUTBOX_VACUUM_LOCK_KEY,))
        return f"vacuumed {', '.join(due)}"

    @contextmanager
    def outbox_bookkeeping(self) -> Iterator[None]:
        """``synchronous_commit = off`` for this transaction only."""
        with self.db.atomic():
            self.db.execute_sql("SET LOCAL synchronous_commit = off")
            yield

    def outbox_waiter(self) -> OutboxWaiter:
        """LISTEN for the outbox's insert notifications on a connection of its own
        (outside the pool: it stays in LISTEN for the worker's lifetime)."""
        params = dict(self.db.connect_params)
        return PostgresListener(lambda: psycopg.connect(dbname=self.db.database,
                                                        autocommit=True, **params))

    def run_on(self, connection: Any, sql: str, params: Sequence[Any],
               plan_each_time: bool = False) -> list[tuple]:
        # psycopg prepares a statement after five runs; Postgres may then switch
        # to a generic plan, which for a skewed filter (a popular vs a rare
        # skill) can be 50x slower. prepare=False plans with the actual values.
        return connection.execute(sql, params or None,
                                  prepare=False if plan_each_time else None).fetchall()

    def sql_string_agg(self, expression: str) -> str:
        return f"string_agg({expression}, '|')"

    def sql_json_object_agg(self, key: str, value: str) -> str:
        return f"json_object_agg({key}, {value})::text"

    def sql_average(self, total: str, count: str) -> str:
        # AVG(integer) is numeric: the sum as numeric over the count
        return f"CASE WHEN {count} > 0 THEN ROUND(CAST({total} AS numeric) / {count}, 2) END"

    def fill_user_counters(self) -> int:
        written = super().fill_user_counters()
        self.db.execute_sql("VACUUM (ANALYZE) user_counters")  # hint bits set once, not by reads
        return written

    # -- bulk loading ------------------------------------------------------------

    @contextmanager
    def bulk_load(self, tables: Sequence[str], keep_indexes: Sequence[str] = (),
                  alongside: Callable[[], None] | None = None,
                  alongside_tables: Sequence[str] = ()) -> Iterator[None]:
        self.db.connect(reuse_if_open=True)
        saved = self._rows(  # secondary indexes no constraint depends on
            "SELECT ci.relname, pg_get_indexdef(x.indexrelid), ct.relname FROM pg_index x "
            "JOIN pg_class ci ON ci.oid = x.indexrelid JOIN pg_class ct ON ct.oid = x.indrelid "
            "JOIN pg_namespace n ON n.oid = ct.relnamespace WHERE n.nspname = current_schema() "
            "AND ct.relname = ANY(%s) AND NOT x.indisprimary AND NOT EXISTS "
            "(SELECT 1 FROM pg_constraint c WHERE c.conindid = x.indexrelid)",
            ([t for t in tables if t not in keep_indexes],))
        for name, _, _ in saved:
            self.db.execute_sql(f'DROP INDEX "{name}"')
        superuser = self._rows("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")
        if superuser and superuser[0][0]:
            self.db.execute_sql("SET session_replication_role = replica")  # no FK/trigger work
        else:
            for table in tables:
                self.db.execute_sql(f'ALTER TABLE "{table}" DISABLE TRIGGER USER')
        self.db.execute_sql("SET synchronous_commit = off")
        self.db.execute_sql("SET maintenance_work_mem = '256MB'")
        loaded = False
        try:
            yield
            loaded = True
        finally:
            self.db.execute_sql("RESET session_replication_role")
            for table in tables:
                self.db.execute_sql(f'ALTER TABLE "{table}" ENABLE TRIGGER USER')
            # Its own connection (peewee's are per thread); the index builds
            # of what it writes would wait for its transaction anyway. Not
            # after a failed load: the rows are partial.
            wait = (in_background(alongside, then=self.db.close)
                    if alongside is not None and loaded else None)
            later = [definition for _, definition, table in saved
                     if wait is not None and table in alongside_tables]
            # Every index back and the session reset, whatever fails (the
            # callbacks run last first, each even if one before it raised).
            with contextlib.ExitStack() as cleanup:
                cleanup.callback(self.db.execute_sql, "RESET maintenance_work_mem")
                cleanup.callback(self.db.execute_sql, "RESET synchronous_commit")
                for definition in reversed(later):
                    cleanup.callback(self.db.execute_sql, definition)
                if wait is not None:
                    cleanup.callback(wait)
                for _, definition, _ in saved:
                    if definition not in later:
                        self.db.execute_sql(definition)
            for table in tables:  # vacuum sets the visibility map: index-only scans
                self.db.execute_sql(f'VACUUM (ANALYZE) "{table}"')

    def sql_series(self, first: int, last: int) -> str:
        return f"WITH seq(i) AS (SELECT generate_series({int(first)}::bigint, {int(last)}))"

    def rebuild_job_search(self) -> None:
        # The load bypassed the triggers that compute the vectors of OPEN jobs
        # (they include the job_skills rows): compute them now, with the two GIN
        # indexes dropped meanwhile (building them once is much faster).
        self.db.connect(reuse_if_open=True)
        indexes = self._rows("SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = "
                             "current_schema() AND indexname IN ('ix_jobs_title_search', "
                             "'ix_jobs_search')")
        if not self._rows("SELECT 1 FROM pg_trigger WHERE tgname = 'trg_jobs_vectors_update'"):
            return  # generated vectors (before migration 0011): nothing to do
        with self.db.atomic():
            for name, _ in indexes:
                self.db.execute_sql(f'DROP INDEX "{name}"')
            for sql in self._recompute_vectors_sql():
                self.db.execute_sql(sql)
            for _, definition in indexes:
                self.db.execute_sql(definition)
        self.db.execute_sql("VACUUM (ANALYZE) jobs")

    @staticmethod
    def _recompute_vectors_sql() -> list[str]:
        """Every OPEN job's vectors recomputed by their triggers, updated_at
        kept (one transaction: the flag is transaction-local)."""
        return [f"SELECT set_config('{SEARCH_REFRESH}', 'on', true)",
                f"UPDATE jobs SET title_vector = NULL WHERE {OPEN_JOB}",
                f"SELECT set_config('{SEARCH_REFRESH}', '', true)"]

    def sql_json(self, expression: str) -> str:
        return f"CAST({expression} AS jsonb)"

    def reset_sequences(self, tables: Sequence[str]) -> None:
        for (table,) in self._rows(
                "SELECT c.table_name FROM information_schema.columns c WHERE c.table_schema = "
                "current_schema() AND c.column_name = 'id' AND c.column_default LIKE 'nextval%%' "
                "AND c.table_name = ANY(%s)", (list(tables),)):
            self.db.execute_sql(f"SELECT setval(pg_get_serial_sequence('\"{table}\"', 'id'), "
                                f'COALESCE((SELECT MAX(id) FROM "{table}"), 0) + 1, false)')

    def copy_rows(self, table: str, columns: Sequence[str], rows: Any) -> int:
        count = 0
        with self.db.atomic():
            cursor = self.db.cursor()
            with cursor.copy(f'COPY "{table}" ({", ".join(columns)}) FROM STDIN') as copy:
                for row in rows:
                    copy.write_row(row)
                    count += 1
        return count

    # -- introspection ---------------------------------------------------------

    def _rows(self, sql: str, params: Sequence[Any] = ()) -> list[tuple]:
        return list(self.db.execute_sql(sql, params).fetchall())

    def schema_snapshot(self) -> dict[str, Any]:
        tables: dict[str, Any] = {}
        for table, column, dtype, length, nullable, default, generated in self._rows(
                "SELECT table_name, column_name, udt_name, character_maximum_length, "
                "is_nullable, column_default, generation_expression "
                "FROM information_schema.columns WHERE table_schema = current_schema() "
                "AND table_name IN (SELECT tablename FROM pg_tables "
                "WHERE schemaname = current_schema())"):
            entry = tables.setdefault(table, {"columns": {}, "constraints": {}})
            entry["columns"][column] = {
                "type": dtype + (f"({length})" if length else ""),
                "nullable": nullable == "YES", "default": default, "generated": generated}
        for table, name, definition in self._rows(
                "SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid) "
                "FROM pg_constraint WHERE connamespace = current_schema()::regnamespace "
                "AND conrelid <> 0"):
            tables.setdefault(table.strip('"'), {"columns": {}, "constraints": {}})[
                "constraints"][name] = definition
        return {
            "tables": tables,
            "indexes": {name: (table, definition) for table, name, definition in self._rows(
                "SELECT tablename, indexname, indexdef FROM pg_indexes "
                "WHERE schemaname = current_schema()")},
            "triggers": {name: (table.strip('"'), definition)
                         for table, name, definition in self._rows(
                "SELECT tgrelid::regclass::text, tgname, pg_get_triggerdef(oid) "
                "FROM pg_trigger WHERE NOT tgisinternal")},
            "views": {name: ("", " ".join(definition.split())) for name, definition in
                      self._rows("SELECT viewname, definition FROM pg_views "
                                 "WHERE schemaname = current_schema()")},
            "functions": {name: ("", definition) for name, definition in self._rows(
                "SELECT proname, pg_get_functiondef(oid) FROM pg_proc "
                "WHERE pronamespace = current_schema()::regnamespace")},
        }

    setting_warnings = (
        ("autovacuum", ("on",), "the outbox and other hot tables bloat without vacuum; turn "
                                "autovacuum on (or run VACUUM after `sync prune`)"),
        ("synchronous_commit", ("on", "remote_apply", "remote_write", "local"),
         "committed transactions can be lost on a crash"),
        # Set by every session the package opens: another value means something
        # between us and the server (a pooler) changed them.
        ("TimeZone", ("utc",), "sessions must run in UTC: timestamps are naive UTC"),
        ("max_parallel_workers_per_gather", ("0",),
         "parallel query adds start-up latency to the target queries' short index walks"),
    )

    def settings(self) -> dict[str, str]:
        names = ("server_version", "max_connections", "shared_buffers", "work_mem",
                 "effective_cache_size", "synchronous_commit", "autovacuum", "TimeZone",
                 "max_parallel_workers_per_gather", "default_transaction_isolation",
                 "statement_timeout")
        values = {name: str(self.db.execute_sql(f"SHOW {name}").fetchone()[0])
                  for name in names}
        values["pool"] = (f"max_connections={self.pool_size} per process, "
                          f"wait up to {self.pool_timeout:g}s")
        return values

    def explain(self, sql: str, params: Sequence[Any] = ()) -> list[str]:
        return [row[0] for row in self._rows("EXPLAIN " + sql, params)]

    def full_scans(self, sql: str, plan: list[str]) -> list[str]:
        return [m.group(1) for m in map(_SEQ_SCAN.search, plan) if m]

    def estimated_rows(self, table: str) -> int:
        rows = self._rows("SELECT GREATEST(reltuples, 0)::bigint FROM pg_class "
                          "WHERE oid = to_regclass(%s)", (table,))
        return int(rows[0][0]) if rows else 0

    def server_version(self) -> str:
        return str(self.db.execute_sql("SHOW server_version").fetchone()[0])

    def cache_warnings(self, tables: Sequence[str], cache_bytes: int | None = None
                       ) -> list[str]:
        if cache_bytes is None:
            cache_bytes = int(self._rows(
                "SELECT pg_size_bytes(current_setting('shared_buffers'))")[0][0])
        sizes = self._rows("SELECT t, pg_relation_size(to_regclass(t)) FROM unnest(%s::text[]) "
                           "AS t WHERE to_regclass(t) IS NOT NULL", (list(tables),))
        return [f"{table} is {size / 2**20:,.0f} MB, more than shared_buffers "
                f"({cache_bytes / 2**20:,.0f} MB): searches that visit many of its rows read "
                "them from outside PostgreSQL's cache (at 1M jobs that tripled the search p99 "
                "before migration 0014); raise shared_buffers (needs a server restart)"
                for table, size in sizes if size > cache_bytes]

    def server_pids(self) -> list[int]:
        return [row[0] for row in self._rows(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
            "AND pid <> pg_backend_pid()")]


_SEQ_SCAN = re.compile(r"Seq Scan on (\w+)")


def _key_columns(orig: BaseException) -> list[str]:
    """Column names from 'Key (a, b)=(...) already exists.' (values are dropped:
    they may be personal data)."""
    detail = getattr(getattr(orig, "diag", None), "message_detail", None) or ""
    match = re.match(r"Key \(([^)]*)\)=", detail)
    return [c.strip() for c in match.group(1).split(",")] if match else []
