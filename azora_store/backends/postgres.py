"""PostgreSQL (production): psycopg 3 through a bounded connection pool.

The driver is optional (``pip install 'azora_store[pg]'``); this module
imports without it so that asking for a Postgres URL can say what to install.
Every session runs in UTC with parallel query off: the four target queries are
short index walks where parallel workers only add start-up latency.

This module holds the connection (pool, session options, replica routing),
locks, the outbox's housekeeping and wake-ups, the SQL fragments and the
full-text hooks; ``postgres_errors`` translates driver errors,
``postgres_schema`` reads the schema, settings and plans, and
``postgres_bulk`` loads tables with ``COPY``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import peewee
from playhouse.pool import MaxConnectionsExceeded, PooledPostgresqlDatabase

from ..errors import (
    ConfigurationError,
    DatabaseUnavailable,
)
from ..replicas.options import replica_options, replica_settings
from ..support import jsonutil
from ..support.extras import missing_extra
from .base import (
    Backend,
    DatabaseURL,
    TranslatingDatabase,
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
from .postgres_bulk import PostgresBulkLoad
from .postgres_errors import PostgresErrors
from .postgres_schema import PostgresIntrospection
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
ANALYZE_EVERY = 60.0  # seconds: the outbox's VACUUMs ANALYZE at most this often
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


class PostgresBackend(PostgresErrors, PostgresIntrospection, PostgresBulkLoad, Backend):
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
        with autovacuum off); only one worker at a time does it. ANALYZE goes
        with it at most once every ``ANALYZE_EVERY`` seconds: on a busy outbox
        it was ~80% of a ``VACUUM (ANALYZE)`` (150 of 180 ms at 100k rows, the
        JSON payload's statistics most of it), and a queue's statistics change
        little from one VACUUM to the next."""
        rows = self.db.execute_sql(
            "SELECT relname, n_dead_tup, EXTRACT(EPOCH FROM now() - "
            "GREATEST(last_analyze, last_autoanalyze)) FROM pg_stat_user_tables "
            "WHERE relname IN ('service_sync', 'sync_counter_deltas')").fetchall()
        due = [(name, analyzed is None or analyzed >= ANALYZE_EVERY)
               for name, dead, analyzed in rows if dead >= VACUUM_THRESHOLDS[name]]
        if not due:
            return None
        if not self.db.execute_sql("SELECT pg_try_advisory_lock(%s)",
                                   (OUTBOX_VACUUM_LOCK_KEY,)).fetchone()[0]:
            return None
        try:
            for name, analyze in due:
                self.db.execute_sql(f"VACUUM (ANALYZE) {name}" if analyze else f"VACUUM {name}")
        finally:
            self.db.execute_sql("SELECT pg_advisory_unlock(%s)", (OUTBOX_VACUUM_LOCK_KEY,))
        return f"vacuumed {', '.join(name for name, _ in due)}"

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

    # -- after a bulk load (the load itself: postgres_bulk) -----------------------

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



