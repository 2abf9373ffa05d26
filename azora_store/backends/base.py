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
"""

from __future__ import annotations

import re
import sqlite3
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar
from urllib.parse import parse_qsl, unquote, urlsplit

import peewee

from .. import jsonutil
from ..errors import (
    AzoraError,
    ConfigurationError,
    Conflict,
    DatabaseBusy,
    InsufficientFunds,
    InvalidTransition,
    ValidationError,
)
from ..models.catalogue import Catalogue, catalogue
from .fulltext import FullTextIndex
from .wakeups import OutboxWaiter, Sleeper

# Triggers report business-rule violations as "azora|<code>|<field>|<message>"
# (invalid transitions: "azora|invalid_transition|<entity>|<from>|<to>").
APP_ERROR_MARK = "azora|"
_APP_ERRORS: dict[str, type[AzoraError]] = {
    "validation": ValidationError,
    "conflict": Conflict,
    "insufficient_funds": InsufficientFunds,
}


def app_error(message: str) -> AzoraError | None:
    """The package error a trigger raised, parsed from the driver's message."""
    start = message.find(APP_ERROR_MARK)
    if start < 0:
        return None
    parts = message[start:].splitlines()[0].split("|")
    code = parts[1] if len(parts) > 1 else ""
    if code == "invalid_transition" and len(parts) >= 5:
        return InvalidTransition(parts[2], parts[3] or None, parts[4])
    cls = _APP_ERRORS.get(code, Conflict)
    field_name = parts[2] if len(parts) > 2 and parts[2] else None
    text = "|".join(parts[3:]) if len(parts) > 3 else message[start:]
    return cls(text, field=field_name, rule=code)


@dataclass(frozen=True)
class DatabaseURL:
    """A parsed ``scheme://user:password@host:port/database?option=value`` URL."""

    raw: str
    scheme: str
    username: str | None = None
    password: str | None = None
    host: str | None = None
    port: int | None = None
    database: str = ""
    options: dict[str, str] = field(default_factory=dict)

    @classmethod
    def parse(cls, url: str) -> DatabaseURL:
        if not isinstance(url, str) or "://" not in url:
            raise ConfigurationError(
                f"{url!r} is not a database URL: use sqlite:///path/to/file.db or "
                "postgresql://user@host:5432/dbname")
        try:
            parts = urlsplit(url)
            port = parts.port
        except ValueError as exc:
            raise ConfigurationError(
                f"{url!r} is not a valid database URL ({exc}): use sqlite:///path/to/file.db "
                "or postgresql://user@host:5432/dbname") from None
        scheme = parts.scheme.lower()
        if not scheme:
            raise ConfigurationError(f"{url!r} has no scheme: start it with sqlite:// or "
                                     "postgresql://")
        path = unquote(parts.path)
        return cls(raw=url, scheme=scheme,
                   username=unquote(parts.username) if parts.username else None,
                   password=unquote(parts.password) if parts.password else None,
                   host=parts.hostname, port=port, database=path[1:] if path else "",
                   options=dict(parse_qsl(parts.query, keep_blank_values=True)))

    def redacted(self) -> str:
        """The URL with its password hidden, safe for logs and ``doctor``."""
        if not self.password:
            return self.raw
        return self.raw.replace(f":{self.password}@", ":***@", 1)


def take_options(url: DatabaseURL, known: dict[str, Callable[[str], Any]]) -> dict[str, Any]:
    """Convert the URL's query options with ``known`` converters (``one_of``,
    ``whole_number``, ...); refuse unknown options and values outside a
    converter's allowed set, naming the option and what it accepts."""
    unknown = sorted(set(url.options) - set(known))
    if unknown:
        raise ConfigurationError(
            f"unknown option(s) {', '.join(unknown)} in {url.redacted()}: "
            f"{url.scheme} accepts {', '.join(sorted(known))}")
    values = {}
    for name, raw in url.options.items():
        try:
            values[name] = known[name](raw)
        except ValueError as exc:
            allowed = f": {name} accepts {exc}" if str(exc) else ""
            raise ConfigurationError(f"option {name}={raw!r} in {url.redacted()} is not "
                                     f"a valid value{allowed}") from None
    return values


# Option converters for ``take_options``. Each raises ValueError whose message
# says what the option accepts.

_WHOLE = re.compile(r"-?[0-9]+")
_DECIMAL = re.compile(r"[0-9]+(\.[0-9]+)?")


def one_of(*allowed: str) -> Callable[[str], str]:
    """A word from ``allowed`` (any case); the lower-case word."""

    def convert(raw: str) -> str:
        if raw.lower() not in allowed:
            raise ValueError(f"one of {', '.join(allowed)}")
        return raw.lower()

    return convert


def whole_number(minimum: int, maximum: int, unit: str = "") -> Callable[[str], int]:
    """An integer written in ASCII digits, from ``minimum`` to ``maximum``."""

    def convert(raw: str) -> int:
        if not _WHOLE.fullmatch(raw) or not minimum <= int(raw) <= maximum:
            raise ValueError(f"a whole number from {minimum:,} to {maximum:,}{unit}")
        return int(raw)

    return convert


def seconds(minimum: float, maximum: float) -> Callable[[str], float]:
    """A number of seconds (digits, optionally a decimal point), in the range."""

    def convert(raw: str) -> float:
        if not _DECIMAL.fullmatch(raw) or not minimum <= float(raw) <= maximum:
            raise ValueError(f"a number of seconds from {minimum:g} to {maximum:g}")
        return float(raw)

    return convert


def printable(max_length: int) -> Callable[[str], str]:
    """Printable ASCII text of at most ``max_length`` characters."""

    def convert(raw: str) -> str:
        if len(raw) > max_length or not (raw.isascii() and raw.isprintable()):
            raise ValueError(f"printable ASCII text of at most {max_length} characters")
        return raw

    return convert


class TranslatingDatabase:
    """Mixin for a peewee ``Database``: every driver error leaves as a package error.

    peewee already wraps driver exceptions in ``peewee.*Error`` (keeping the
    driver's as ``.orig``); the backend turns those into ``azora_store.errors``
    with the field and rule named.
    """

    backend: Backend

    def _translated(self, exc: Exception, sql: str = "", params: Any = None) -> AzoraError:
        orig = getattr(exc, "orig", exc)
        if isinstance(orig, AzoraError):
            # Already ours: peewee wraps exceptions by the name of a base class,
            # and azora_store's DatabaseError shares one with its own.
            return orig
        return self.backend.translate_error(exc, sql, params)

    def execute_sql(self, sql, params=None):
        try:
            return super().execute_sql(sql, params)
        except (peewee.PeeweeException, *self.backend.driver_errors) as exc:
            raise self._translated(exc, sql, params) from exc

    def connect(self, reuse_if_open=False):
        try:
            return super().connect(reuse_if_open)
        except (peewee.PeeweeException, *self.backend.driver_errors) as exc:
            raise self._translated(exc) from exc

    def begin(self, *args, **kwargs):
        try:
            return super().begin(*args, **kwargs)
        except (peewee.PeeweeException, *self.backend.driver_errors) as exc:
            raise self._translated(exc) from exc

    def commit(self):
        try:
            return super().commit()
        except (peewee.PeeweeException, *self.backend.driver_errors) as exc:
            raise self._translated(exc) from exc


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


MIGRATION_SQL = Path(__file__).resolve().parent.parent / "migrations" / "sql"


_TRIGGER = re.compile(r"CREATE\s+(OR\s+REPLACE\s+)?(CONSTRAINT\s+)?TRIGGER\b", re.IGNORECASE)
_BEGIN = re.compile(r"\bBEGIN\b", re.IGNORECASE)


def _complete(text: str) -> bool:
    """Whether ``text`` is whole statements (SQLite's tokenizer: quotes,
    comments, trigger bodies). A trigger without a ``BEGIN`` body (Postgres:
    ``EXECUTE FUNCTION f()``) ends at its semicolon, where SQLite's tokenizer
    would wait for an ``END``."""
    code = "\n".join(line for line in text.splitlines()
                     if not line.lstrip().startswith("--")).strip()
    if _TRIGGER.match(code) and not _BEGIN.search(code):
        return sqlite3.complete_statement("SELECT " + text)
    return sqlite3.complete_statement(text)


def split_sql(script: str) -> list[str]:
    """Split a SQL script into statements: a statement ends at a line ending in
    ``;`` outside quotes, ``$$`` bodies and trigger ``BEGIN ... END`` blocks.
    Comment-only chunks are dropped."""
    statements: list[str] = []
    lines: list[str] = []
    for line in script.splitlines():
        lines.append(line)
        text = "\n".join(lines).strip()
        if text.endswith(";") and text.count("$$") % 2 == 0 and _complete(text):
            if any(not chunk.strip().startswith("--") and chunk.strip() for chunk in lines):
                statements.append(text)
            lines = []
    rest = "\n".join(lines).strip()
    if any(not chunk.strip().startswith("--") and chunk.strip() for chunk in lines):
        raise ValueError(f"SQL script ends inside a statement: {rest[:80]!r}")
    return statements
