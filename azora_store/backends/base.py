"""The backend contract: everything that differs between databases lives in a
``Backend`` subclass, so business code never asks which database it is on.

A backend owns
- the peewee ``Database`` (connection, pragmas or pool) with driver errors
  translated into ``azora_store.errors`` at the boundary;
- dialect traits as class attributes (feature toggles, as peewee's Database);
- the frozen SQL of migrations (``migration_sql``: data files, never code
  shared with a live path), and the SQL of live paths that rebuild what a
  bulk load bypassed;
- the migration lock, schema introspection, settings and plans for ``doctor``.

One job, so one module above 450 lines: the contract every dialect answers,
each hook with its promise in its docstring. The pieces it builds on live
beside it: ``urls`` (URL and options), ``translate`` (the error boundary),
``sqlscript`` (frozen migration files) and ``wakeups`` (how idle workers wait).
"""

from __future__ import annotations

import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any, ClassVar

import peewee

from ..errors import AzoraError, ConfigurationError, DatabaseBusy
from ..models.catalogue import Catalogue, catalogue
from ..support import jsonutil
from .fulltext import FullTextIndex
from .sqlscript import MIGRATION_SQL, split_sql
from .translate import APP_ERROR_MARK, TranslatingDatabase, app_error
from .urls import DatabaseURL, one_of, printable, seconds, take_options, whole_number
from .wakeups import OutboxWaiter, Sleeper

#: What a backend module or a plugin imports from here: the contract and the
#: pieces every dialect builds on (each defined in its own module).
__all__ = [
    "APP_ERROR_MARK", "MIGRATION_SQL", "Backend", "DatabaseURL", "TranslatingDatabase",
    "app_error", "one_of", "printable", "seconds", "split_sql", "take_options",
    "wait_for_lock", "whole_number",
]


def wait_for_lock(try_acquire: Callable[[], bool], what: str, timeout: float,
                  on_wait: Callable[[str], None] | None = None) -> None:
    """Call ``try_acquire`` until it returns True, saying once that we wait."""
    deadline = time.monotonic() + timeout
    told = False
    delay = 0.05
    while not try_acquire():
        if time.monotonic() >= deadline:
            raise DatabaseBusy(f"gave up after {timeout:.0f}s waiting for {what}")
        if not told and on_wait is not None:
            on_wait(f"waiting for {what} ...")
            told = True
        time.sleep(delay)
        delay = min(delay * 2, 1.0)


class Backend(ABC):
    """One database dialect. Subclasses set the traits and implement the hooks."""

    #: Name shown by ``doctor`` and used in test ids.
    name: ClassVar[str]
    #: The directory of ``azora_store/migrations/sql`` whose frozen DDL
    #: ``migration_sql`` reads (a plugin subclassing a built-in backend inherits
    #: its dialect's); None: the backend overrides ``migration_sql``.
    migration_dialect: ClassVar[str | None] = None
    #: Driver exception classes that may escape peewee's own wrapping.
    driver_errors: ClassVar[tuple[type[BaseException], ...]] = ()

    # Feature toggles: business code reads these, never the backend's name.
    #: Row locks with SKIP LOCKED exist (Postgres); otherwise the database
    #: serialises writers (SQLite's single IMMEDIATE writer).
    supports_skip_locked: ClassVar[bool] = False
    #: SELECT ... FOR UPDATE exists. Where it does not, every write transaction
    #: already holds the database's single write lock, which is stronger.
    supports_row_locks: ClassVar[bool] = False
    #: The URL may name streaming replicas (``?replica=URL``) for the read paths.
    supports_replicas: ClassVar[bool] = False
    #: The read router (``azora_store.replicas.router.ReadRouter``) when the
    #: URL names replicas; None: every read runs on this database.
    reads: Any = None
    #: Connections come from a pool (``db.close()`` hands this thread's back):
    #: the HTTP API returns one after each request instead of holding it.
    pools_connections: ClassVar[bool] = False
    #: The dialect's full-text index as job search uses it: its SQL fragments
    #: and cost traits (:mod:`azora_store.backends.fulltext`).
    fulltext: ClassVar[FullTextIndex]

    def __init__(self, url: DatabaseURL):
        self.url = url
        self.catalogue: Catalogue = catalogue()
        self.db = self.create_database()
        self.db.backend = self

    # -- connection and errors -------------------------------------------------

    @abstractmethod
    def create_database(self) -> peewee.Database:
        """Build the configured peewee Database (not yet connected)."""

    @abstractmethod
    def translate_error(self, exc: BaseException, sql: str = "", params: Any = None
                        ) -> AzoraError:
        """Turn a peewee/driver exception raised by ``sql`` into a package error."""

    def database_exists(self) -> bool:
        """Whether the database is already there (checked without creating it)."""
        return True

    def require_existing(self) -> None:  # noqa: B027 - nothing to do unless embedded
        """From now on, never create the database by connecting to it: raise
        ``DatabaseUnavailable`` naming it if it is missing (now, or at any later
        connection). Call before the first connection. Servers never create a
        database on connect, so there is nothing to do unless the database is
        embedded (a file made by its first connection)."""

    def close(self) -> None:
        if not self.db.is_closed():
            self.db.close()

    @abstractmethod
    def migration_lock(self, on_wait: Callable[[str], None] | None = None
                       ) -> AbstractContextManager[None]:
        """Hold a lock that only one migration runner at a time can have."""

    # -- DDL the ORM cannot express ----------------------------------------------

    def execute_script(self, statements: Sequence[str]) -> None:
        for statement in statements:
            self.db.execute_sql(statement)

    def migration_sql(self, name: str, direction: str = "up") -> list[str]:
        """The frozen SQL of migration ``name`` for this dialect, as statements.

        Applied migrations must never change, so their DDL lives in data files
        (``azora_store/migrations/sql/<dialect>/<name>.<up|down>.sql``) that no
        live code path shares; see ``docs/migrations.md``.
        """
        if direction not in ("up", "down"):
            raise ValueError(f"direction must be 'up' or 'down', not {direction!r}")
        if self.migration_dialect is None:
            raise ConfigurationError(
                f"the {self.name} backend has no frozen migration SQL: set its "
                "migration_dialect or override migration_sql")
        path = MIGRATION_SQL / self.migration_dialect / f"{name}.{direction}.sql"
        return split_sql(path.read_text(encoding="utf-8"))

    # -- SQL fragments for statements written once for every dialect ------------

    @abstractmethod
    def sql_in(self, column: str) -> str:
        """``column`` is one of the values of a single list parameter."""

    @abstractmethod
    def sql_list_values(self) -> str:
        """A SELECT yielding one row (column ``value``) per item of a list parameter."""

    @abstractmethod
    def list_param(self, values: Sequence[Any]) -> Any:
        """The parameter that ``sql_in`` expects for ``values``."""

    def row_lock(self, table_alias: str) -> str:
        """Clause that locks the selected rows and skips rows others locked.
        (Where writers are serialised by the database, nothing is needed.)"""
        return f" FOR UPDATE OF {table_alias} SKIP LOCKED" if self.supports_skip_locked else ""

    def row_lock_wait(self) -> str:
        """Clause that locks the selected rows, waiting for other holders."""
        return " FOR UPDATE" if self.supports_row_locks else ""

    def lock_rows(self, query: Any) -> Any:
        """A peewee SELECT that locks its rows until the transaction ends (where
        row locks exist; elsewhere the transaction's write lock covers it)."""
        return query.for_update() if self.supports_row_locks else query

    @abstractmethod
    def lock_named(self, name: str) -> None:
        """Serialise on ``name`` until the transaction ends (e.g. a hash chain's
        head). Needs an open transaction."""

    def datetime_param(self, value: Any) -> Any:
        return value

    def read_datetime(self, value: Any) -> Any:
        return value

    def read_json(self, value: Any) -> Any:
        """JSON selected as text (or already decoded by the driver) to Python."""
        return jsonutil.loads(value) if isinstance(value, (str, bytes)) else value

    def fold_sync_counters(self) -> int:
        """Fold pending count deltas into the counter rows; returns rows folded.
        (Only backends whose triggers append deltas have anything to fold.)"""
        return 0

    def outbox_maintenance(self) -> str | None:
        """Housekeeping the outbox needs on this backend; returns what was done."""
        return None

    def outbox_bookkeeping(self) -> AbstractContextManager[Any]:
        """A transaction for a worker's lease bookkeeping (claim, complete), which
        changes only outbox state. Dialects commit it without waiting for the
        disk: losing it to a power cut or server crash is the same as the worker
        dying before it, which leases already make safe (the events come back
        and are delivered again). Events themselves, and in-transaction handlers'
        effects, are always committed durably."""
        return self.db.atomic()

    #: Seconds a worker pauses after a claim that found fewer events than its
    #: batch, before it claims again. Zero where writers do not exclude each other.
    claim_gather: float = 0.0

    def outbox_draining(self, draining: bool) -> None:
        """Told by a sync worker whether its last claim was a full batch (it is
        draining a backlog, throughput before fairness) or not. Here nothing
        changes; SQLite's writers stop taking turns while it drains."""
        return None

    def outbox_waiter(self) -> OutboxWaiter:
        """What an idle worker waits on for new events (``backends/wakeups.py``):
        here a plain sleep; dialects with a change signal return a better one."""
        return Sleeper()

    # -- job search ----------------------------------------------------------------

    def source_identity(self) -> str:
        """This database's stable identity (random, made by migration 0019): the
        source its events carry to brokers, so event ids from many databases (edge
        nodes) never collide. A copied database file shares it: see docs/brokers.md."""
        identity = getattr(self, "_source_identity", None)
        if identity is None:
            rows = self.db.execute_sql("SELECT source FROM store_identity").fetchall()
            if not rows:
                raise ConfigurationError("this database has no identity row (store_identity): "
                                         "run `azora-store init` to apply migration 0019")
            identity = self._source_identity = rows[0][0]
        return identity

    def fetch(self, sql: str, params: Sequence[Any], plan_each_time: bool = False
              ) -> list[tuple]:
        """Run a read on this thread's connection without the ORM layer (the hot
        path of the target queries). ``plan_each_time``: the best plan depends
        on the parameter values (skewed data), so never reuse a generic plan."""
        try:
            return self.run_on(self.db.connection(), sql, params, plan_each_time)
        except self.driver_errors as exc:
            raise self.translate_error(exc, sql, params) from exc

    def run_on(self, connection: Any, sql: str, params: Sequence[Any],
               plan_each_time: bool = False) -> list[tuple]:
        """``sql`` on a driver connection, as ``fetch`` runs it (no error translation)."""
        return connection.execute(sql, params).fetchall()

    @abstractmethod
    def sql_string_agg(self, expression: str) -> str:
        """An aggregate joining ``expression`` values with '|'."""

    def index_hint(self, index: str) -> str:
        """Clause after a table name forcing ``index`` where the planner cannot
        estimate a range well (empty where it can)."""
        return ""

    @abstractmethod
    def sql_json_object_agg(self, key: str, value: str) -> str:
        """An aggregate building a JSON object (as text) from key/value pairs."""

    # -- per-user counters (migration 0017) -----------------------------------------

    @abstractmethod
    def sql_average(self, total: str, count: str) -> str:
        """``ROUND(AVG(x), 2)`` rebuilt from the sum and count of ``x``, computed
        exactly as this dialect's AVG computes it (NULL when the count is 0)."""

    def user_counters_fill_sql(self) -> str:
        """One INSERT ... SELECT giving every user (deleted ones inactive) the
        counters the ``user_stats`` view would aggregate: each table grouped
        once, not a look-up per user. The seed runs it after its bulk load
        (which bypasses the triggers); migration 0017 has a frozen copy."""
        earnings = self.sql_json_object_agg("currency", "total")
        return f"""INSERT INTO user_counters (user_id, active, enrollments, courses_completed,
    jobs_posted, jobs_completed, applications, reviews_received, rating_sum, earnings)
SELECT u.id, u.deleted_at IS NULL,
       COALESCE(e.enrollments, 0), COALESCE(e.completed, 0), COALESCE(p.posted, 0),
       COALESCE(c.completed, 0), COALESCE(a.applications, 0), COALESCE(r.reviews, 0),
       COALESCE(r.rating_sum, 0), COALESCE(w.earnings, '{{}}')
  FROM users u
  LEFT JOIN (SELECT user_id, COUNT(*) AS enrollments,
                    SUM(CASE WHEN status = 'COMPLETED' THEN 1 ELSE 0 END) AS completed
               FROM enrollments GROUP BY user_id) AS e ON e.user_id = u.id
  LEFT JOIN (SELECT client_id, COUNT(*) AS posted FROM jobs
              WHERE deleted_at IS NULL GROUP BY client_id) AS p ON p.client_id = u.id
  LEFT JOIN (SELECT freelancer_id, COUNT(*) AS completed FROM jobs
              WHERE status = 'COMPLETED' AND freelancer_id IS NOT NULL
              GROUP BY freelancer_id) AS c ON c.freelancer_id = u.id
  LEFT JOIN (SELECT freelancer_id, COUNT(*) AS applications FROM applications
              GROUP BY freelancer_id) AS a ON a.freelancer_id = u.id
  LEFT JOIN (SELECT reviewee_id, COUNT(*) AS reviews, SUM(rating) AS rating_sum FROM reviews
              GROUP BY reviewee_id) AS r ON r.reviewee_id = u.id
  LEFT JOIN (SELECT owner_id, {earnings} AS earnings FROM (
                 SELECT a.owner_id AS owner_id, a.currency AS currency,
                        SUM(t.amount_minor) AS total
                   FROM accounts a JOIN transfers t ON t.to_account_id = a.id
                  WHERE a.kind = 'WALLET' AND t.kind = 'ESCROW_RELEASE'
                  GROUP BY a.owner_id, a.currency) AS o
              GROUP BY owner_id) AS w ON w.owner_id = u.id
 ORDER BY u.id"""

    def fill_user_counters(self) -> int:
        """Replace every user's counters with ones computed from the tables, in
        one transaction; returns the rows written. For a bulk load that
        bypassed the triggers, or to repair a drift ``doctor`` reported."""
        with self.db.atomic():
            self.db.execute_sql("DELETE FROM user_counters")
            return self.db.execute_sql(self.user_counters_fill_sql()).rowcount

    # -- bulk loading (the seed generator) ----------------------------------------

    def bulk_load_aside(self) -> Backend | None:
        """The backend on which tables can be bulk-loaded concurrently with this
        one's own work, from another thread (its connections are per thread),
        or None where nothing can run alongside (the load then runs here,
        after)."""
        return self

    @abstractmethod
    def bulk_load(self, tables: Sequence[str], keep_indexes: Sequence[str] = (),
                  alongside: Callable[[], None] | None = None,
                  alongside_tables: Sequence[str] = ()) -> AbstractContextManager[None]:
        """Make loading these tables fast: drop their secondary indexes (except on
        ``keep_indexes`` tables, e.g. ones with only small partial indexes, which
        cost less to maintain than to rebuild) and triggers, restored from the
        database's own DDL when the block ends, and relax durability. The loader
        must write consistent data: foreign keys and triggers do not check it.

        ``alongside`` runs once the rows are in and the triggers are back: on a
        thread of its own while the indexes are rebuilt where the database takes
        more than one writer (the indexes of ``alongside_tables``, which it
        writes, after it), after them where it takes one."""

    @abstractmethod
    def copy_rows(self, table: str, columns: Sequence[str], rows: Any) -> int:
        """Insert an iterable of tuples as fast as the driver allows."""

    @abstractmethod
    def sql_series(self, first: int, last: int) -> str:
        """A WITH clause defining ``seq(i)`` = first .. last (no parameters, so
        the statement may use ``%`` freely on every driver)."""

    def sql_json(self, expression: str) -> str:
        """``expression`` (text) as a value of a JSON column."""
        return expression

    def rebuild_job_search(self) -> None:  # noqa: B027 - nothing to do unless a dialect says
        """Rebuild full-text structures after a load that bypassed their triggers."""

    def reset_sequences(self, tables: Sequence[str]) -> None:  # noqa: B027
        """Make id sequences continue after ids that were written explicitly."""

    # -- introspection ---------------------------------------------------------

    @abstractmethod
    def schema_snapshot(self) -> dict[str, Any]:
        """Tables (columns with type and nullability, checks, foreign keys),
        indexes, triggers and views, normalised for comparison."""

    @abstractmethod
    def settings(self) -> dict[str, str]:
        """The server settings or pragmas that matter, for ``doctor``."""

    #: (setting, the values that keep the package's promises, why another one
    #: is a problem) for ``doctor``: a value of ``settings()`` (lower-cased)
    #: outside its list is a warning, so nothing weaker than documented is OK.
    setting_warnings: ClassVar[tuple[tuple[str, tuple[str, ...], str], ...]] = ()

    @abstractmethod
    def explain(self, sql: str, params: Sequence[Any] = ()) -> list[str]:
        """The plan of one statement, one line per step."""

    @abstractmethod
    def full_scans(self, sql: str, plan: list[str]) -> list[str]:
        """The tables ``plan`` (from ``explain(sql)``) reads from end to end."""

    @abstractmethod
    def estimated_rows(self, table: str) -> int:
        """A cheap estimate of a table's row count (never a full COUNT)."""

    @abstractmethod
    def server_version(self) -> str: ...

    def cache_warnings(self, tables: Sequence[str], cache_bytes: int | None = None
                       ) -> list[str]:
        """The tables bigger than the server's own cache (``cache_bytes``, or
        the configured size): searches that visit many of their rows read them
        from outside it. None where the operating system's cache is the only one."""
        return []

    def server_pids(self) -> list[int]:
        """The server processes serving this database to others (load tests add
        their CPU to the server's); none for an embedded database."""
        return []

    @abstractmethod
    def database_files(self) -> list[Path]:
        """The files on this machine that hold this database (for dropping them
        from the OS page cache before a cold benchmark)."""

    def buffer_reads(self) -> tuple[int, int] | None:
        """(blocks read from outside the server's own cache, blocks found in it)
        by this database so far; None where the OS cache is the only cache."""
        return None
