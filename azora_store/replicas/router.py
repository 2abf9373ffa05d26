"""The read router: which server answers one of the package's read paths.

Peewee has no replica router (``playhouse.read_slave`` went in 3.0) and
``Model.bind_ctx`` swaps the database for the whole process, so the routing
happens at the package's own read paths: each (``read_path``) opens a *scope*
that picks one server for all its statements, and ``PostgresBackend.fetch``
runs them there. Everything else stays on the primary: statements outside a
read path, anything inside a transaction (writes, row locks, outbox claims),
and every read of a request pinned to the primary (a write request).

A scope picks a replica when

- it is healthy: reachable, still in recovery (not promoted), and within
  ``max_lag`` seconds and ``max_bytes`` of WAL of the primary, as measured by
  the last health check (every ``check`` seconds, by whichever thread finds
  the last one stale; a statement timeout of ``timeout_ms`` bounds it);
- and, if the read carries a consistency token, it has replayed up to the
  token: known from the last check or poll, or polled on the replica for up
  to ``wait`` seconds. After that the primary answers.

A replica that fails mid-read is marked down and the statement is run again on
the primary: the caller never sees a replica's failure. The next health check
that reaches it brings it back.
"""

from __future__ import annotations

import itertools
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from contextvars import ContextVar, Token
from dataclasses import dataclass
from typing import Any

from ..backends.base import Backend, DatabaseURL
from ..errors import AzoraError, DatabaseBusy, DatabaseUnavailable, SchemaOutOfDate
from .lsn import format_lsn
from .options import ReplicaSettings

PRIMARY = "primary"
#: Why a read went where it went (the ``reason`` label of the counters).
REASONS = {
    "fresh": "no token: a healthy replica",
    "token": "a replica that replayed past the token",
    "pinned": "pinned to the primary (a write request, primary_reads())",
    "transaction": "inside a transaction",
    "unhealthy": "no replica healthy and within the lag limits",
    "token_wait": "no replica reached the token within the wait",
    "fallback": "the replica failed mid-read",
}
#: Replica errors after which the primary answers instead.
FALLBACK_ERRORS = (DatabaseUnavailable, DatabaseBusy, SchemaOutOfDate)
POLL_FIRST, POLL_MAX = 0.002, 0.02  # seconds between replay polls of a token read


@dataclass
class Session:
    """Read-your-writes for a block of code: every commit on the primary moves
    ``position`` (an LSN as an integer; 0 before the first)."""

    position: int = 0

    @property
    def token(self) -> str | None:
        return format_lsn(self.position) if self.position else None


_SCOPE: ContextVar[Scope | None] = ContextVar("azora_read_scope", default=None)
TOKEN: ContextVar[int] = ContextVar("azora_read_token", default=0)
PINNED: ContextVar[bool] = ContextVar("azora_read_pinned", default=False)
SESSION: ContextVar[Session | None] = ContextVar("azora_read_session", default=None)


class Scope:
    """One read path's choice; a fallback moves it to the primary."""

    __slots__ = ("reason", "replica", "reset", "router")

    def __init__(self, router: ReadRouter, replica: Replica | None, reason: str):
        self.router = router
        self.replica = replica
        self.reason = reason
        self.reset: Token[Scope | None] | None = None


class Replica:
    """One replica: its own connection pool, and the state of its last check."""

    def __init__(self, url: DatabaseURL, timeout_ms: int):
        from ..backends.postgres import PostgresBackend

        self.url = url
        self.name = f"{url.host}:{url.port}/{url.database}"
        self.backend = PostgresBackend(url)
        self.timeout_ms = timeout_ms
        self.state = "unknown"  # streaming | lagging | down | promoted
        self.replay_lsn = 0
        self.byte_lag: int | None = None
        self.time_lag: float | None = None
        self.error = ""
        self.checked_at: float | None = None  # time.time() of the last check
        self._checker: Any = None  # a driver connection of its own, for health checks

    @property
    def healthy(self) -> bool:
        return self.state == "streaming"

    def probe(self) -> tuple[bool, int]:
        """(still in recovery, replayed LSN), on the health-check connection."""
        import psycopg

        if self._checker is None or self._checker.closed:
            u = self.url
            self._checker = psycopg.connect(
                host=u.host, port=u.port, user=u.username, password=u.password,
                dbname=u.database, autocommit=True,
                connect_timeout=int(u.options.get("connect_timeout", 2)),
                application_name="azora_store health check",
                options=f"-c statement_timeout={self.timeout_ms}")
        recovering, replayed = self._checker.execute(
            "SELECT pg_is_in_recovery(), pg_last_wal_replay_lsn() - '0/0'::pg_lsn").fetchone()
        return bool(recovering), int(replayed or 0)

    def replayed(self) -> int:
        """The replayed LSN, asked on this thread's pooled connection (the read
        that follows runs there)."""
        rows = self.backend.fetch("SELECT pg_last_wal_replay_lsn() - '0/0'::pg_lsn", ())
        value = int(rows[0][0] or 0)
        self.replay_lsn = max(self.replay_lsn, value)
        return value

    def mark_down(self, error: str) -> None:
        self.state, self.error = "down", error

    def drop_connection(self) -> None:
        """Forget this thread's connection and the idle pooled ones (after the
        server went away they are all broken)."""
        db = self.backend.db
        try:
            if not db.is_closed():
                db.manual_close()
        except Exception:  # already broken: nothing to hand back
            pass
        db.close_idle()

    def close(self) -> None:
        if self._checker is not None:
            self._checker.close()
            self._checker = None
        self.backend.close()

    def to_json(self) -> dict[str, Any]:
        return {"replica": self.name, "state": self.state,
                "replay_lsn": format_lsn(self.replay_lsn) if self.replay_lsn else None,
                "byte_lag": self.byte_lag,
                "time_lag": None if self.time_lag is None else round(self.time_lag, 3),
                "error": self.error or None}


class ReadRouter:
    """The replicas of one primary (``PostgresBackend.reads``)."""

    def __init__(self, primary: Backend, settings: ReplicaSettings):
        self.primary = primary
        self.settings = settings
        self.replicas = [Replica(url, settings.timeout_ms) for url in settings.urls]
        #: Hand a replica connection back to its pool after each read path
        #: (the API sets it when it hands primary connections back per request).
        self.release = False
        #: Called with (target, reason) after each read path: the API counts them.
        self.listeners: list[Callable[[str, str], None]] = []
        self._counts: dict[tuple[str, str], int] = {}
        self._count_lock = threading.Lock()
        self._check_lock = threading.Lock()
        self._checked_at = float("-inf")  # time.monotonic() of the last check
        self._samples: deque[tuple[float, int]] = deque()  # (monotonic, primary LSN)
        self._turn = itertools.count()

    # -- scopes ------------------------------------------------------------------------

    def enter(self) -> Scope | None:
        """Open a read path's scope (None inside another: the outer one decides)."""
        outer = _SCOPE.get()
        if outer is not None and outer.router is self:
            return None
        if PINNED.get():
            replica, reason = None, "pinned"
        elif self.primary.db.in_transaction():
            replica, reason = None, "transaction"
        else:
            session = SESSION.get()
            token = max(TOKEN.get(), session.position if session is not None else 0)
            replica, reason = self.choose(token)
        scope = Scope(self, replica, reason)
        scope.reset = _SCOPE.set(scope)
        return scope

    def leave(self, scope: Scope | None) -> None:
        if scope is None:
            return
        _SCOPE.reset(scope.reset)  # type: ignore[arg-type]
        replica = scope.replica
        self.count(PRIMARY if replica is None else replica.name, scope.reason)
        if replica is not None and self.release:
            replica.backend.db.close()

    def target(self) -> Replica | None:
        """The replica the current statement goes to (None: the primary)."""
        scope = _SCOPE.get()
        if scope is None or scope.replica is None or scope.router is not self:
            return None
        if self.primary.db.in_transaction():
            return None
        return scope.replica

    def fetch_on(self, replica: Replica, sql: str, params: Sequence[Any],
                 plan_each_time: bool = False) -> list[tuple]:
        """``sql`` on ``replica``; on the primary if the replica fails. A lost
        connection is retried once on a fresh one first (pooled connections
        die with a server restart while the server itself is back)."""
        backend = replica.backend
        for attempt in (1, 2):
            try:
                return backend.run_on(backend.db.connection(), sql, params, plan_each_time)
            except AzoraError as exc:  # opening a connection failed (already translated)
                error = exc
            except backend.driver_errors as exc:
                error = backend.translate_error(exc, sql, params)
            if not isinstance(error, DatabaseUnavailable):
                break
            replica.drop_connection()
            if attempt == 2:
                replica.mark_down(str(error))
        if not isinstance(error, FALLBACK_ERRORS):
            raise error
        scope = _SCOPE.get()
        if scope is not None:
            scope.replica, scope.reason = None, "fallback"
        return Backend.fetch(self.primary, sql, params, plan_each_time)

    # -- choosing ------------------------------------------------------------------------

    def choose(self, token: int = 0) -> tuple[Replica | None, str]:
        """A replica for a read needing at least LSN ``token`` (0: none), and why."""
        self.maybe_check()
        healthy = [r for r in self.replicas if r.healthy]
        if not healthy:
            return None, "unhealthy"
        start = next(self._turn) % len(healthy)
        ordered = healthy[start:] + healthy[:start]
        if not token:
            return ordered[0], "fresh"
        for replica in ordered:
            if replica.replay_lsn >= token:
                return replica, "token"
        deadline = time.monotonic() + self.settings.wait
        delay = POLL_FIRST
        while True:
            for replica in ordered:
                try:
                    if replica.replayed() >= token:
                        return replica, "token"
                except AzoraError as exc:
                    replica.mark_down(str(exc))
                    replica.drop_connection()
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return None, "token_wait"
            time.sleep(min(delay, remaining))
            delay = min(delay * 2, POLL_MAX)

    # -- health --------------------------------------------------------------------------

    def maybe_check(self) -> None:
        """Check the replicas if the last check is older than ``settings.check``;
        a thread that finds another one checking goes on with the last state."""
        if time.monotonic() - self._checked_at < self.settings.check:
            return
        if not self._check_lock.acquire(blocking=False):
            return
        try:
            if time.monotonic() - self._checked_at >= self.settings.check:
                self._check_all()
        finally:
            self._check_lock.release()

    def check(self) -> list[Replica]:
        """Check every replica now (waiting for a check in progress)."""
        with self._check_lock:
            self._check_all()
        return self.replicas

    def _check_all(self) -> None:
        try:
            primary_lsn: int | None = int(Backend.fetch(
                self.primary, "SELECT pg_current_wal_lsn() - '0/0'::pg_lsn", ())[0][0])
        except AzoraError:
            primary_lsn = None  # lag by time since the last sample only
        now = time.monotonic()
        if primary_lsn is not None:
            self._samples.append((now, primary_lsn))
        horizon = now - max(2 * self.settings.max_lag, 10 * self.settings.check, 10.0)
        while len(self._samples) > 1 and self._samples[0][0] < horizon:
            self._samples.popleft()
        for replica in self.replicas:
            self._check_one(replica, primary_lsn, now)
        self._checked_at = time.monotonic()

    def _check_one(self, replica: Replica, primary_lsn: int | None, now: float) -> None:
        import psycopg

        replica.checked_at = time.time()
        try:
            recovering, replayed = replica.probe()
        except (psycopg.Error, OSError, ValueError) as exc:
            replica.mark_down(" ".join(str(exc).split())[:300])
            if replica._checker is not None:
                replica._checker.close()
            replica.byte_lag = replica.time_lag = None
            return
        replica.error = ""
        if replica.state == "down":  # back: its idle pooled connections died with it
            replica.backend.db.close_idle()
        if not recovering:
            # Promoted: it takes writes of its own and no longer follows the primary.
            replica.state, replica.byte_lag, replica.time_lag = "promoted", None, None
            return
        replica.replay_lsn = replayed
        replica.byte_lag = None if primary_lsn is None else max(primary_lsn - replayed, 0)
        replica.time_lag = self._time_lag(replayed, now)
        within = ((replica.byte_lag is None or replica.byte_lag <= self.settings.max_bytes)
                  and (replica.time_lag is None or replica.time_lag <= self.settings.max_lag))
        replica.state = "streaming" if within else "lagging"

    def _time_lag(self, replayed: int, now: float) -> float | None:
        """How long ago the primary was no further than ``replayed``: from the
        primary's positions sampled at each check (never from the replica's
        last replayed commit time, which grows while an idle primary writes
        nothing). At least the age of the oldest sample if none is that old."""
        if not self._samples:
            return None
        for sampled_at, position in reversed(self._samples):
            if position <= replayed:
                return max(now - sampled_at, 0.0)
        return now - self._samples[0][0]

    # -- positions and counts ------------------------------------------------------------

    def position(self) -> int:
        """The primary's WAL insert position now: a token covering every
        transaction committed so far (also under ``synchronous_commit=off``)."""
        rows = Backend.fetch(self.primary, "SELECT pg_current_wal_insert_lsn() - '0/0'::pg_lsn",
                             ())
        return int(rows[0][0])

    def committed(self) -> None:
        """After a commit on the primary: move the session's position, if any."""
        session = SESSION.get()
        if session is not None:
            session.position = max(session.position, self.position())

    def count(self, target: str, reason: str) -> None:
        with self._count_lock:
            key = (target, reason)
            self._counts[key] = self._counts.get(key, 0) + 1
        for listener in self.listeners:
            listener(target, reason)

    def counts(self) -> dict[tuple[str, str], int]:
        """Read paths served so far in this process, by (target, reason)."""
        with self._count_lock:
            return dict(self._counts)

    def close(self) -> None:
        for replica in self.replicas:
            replica.close()
