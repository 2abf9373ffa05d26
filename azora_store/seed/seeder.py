"""The Seeder: plans the draws, loads the tables through the backend's bulk
path (the outbox beside them) and rebuilds indexes; the rows come from the
builders, one per domain."""

from __future__ import annotations

import shlex
import threading
import time
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

from ..errors import ConfigurationError
from ..support.threads import in_background, wait_after_failure
from .common import (
    CHUNK,
    OUTBOX_TABLES,
    SCALES,
    STREAMS,
    TABLES,
    Report,
    SeedSummary,
    _numpy,
)
from .compliance import ComplianceBuilder
from .counters import CountersBuilder
from .jobs import JobsBuilder
from .money import MoneyBuilder
from .outbox import OutboxBuilder
from .people import PeopleBuilder

if TYPE_CHECKING:
    from ..store import Store


class Seeder(PeopleBuilder, JobsBuilder, MoneyBuilder, ComplianceBuilder, CountersBuilder,
             OutboxBuilder):
    """Fills a fresh database with a deterministic marketplace (``run``)."""

    def __init__(self, store: Store, scale: str, seed: int = 42, report: Report | None = None):
        if scale not in SCALES:
            raise ConfigurationError(f"scale must be one of {', '.join(SCALES)}, got {scale!r}")
        self.store = store
        self.backend = store.backend
        self.scale_name = scale
        self.scale = SCALES[scale]
        self.seed = seed
        shown = report or (lambda table, done, total: None)
        reporting = threading.Lock()  # the outbox may load on another thread

        def report_one_at_a_time(table: str, done: int, total: int) -> None:
            with reporting:
                shown(table, done, total)

        self.report: Report = report_one_at_a_time
        self.stop = threading.Event()  # set when a load fails: others stop early
        self.np = _numpy()
        self.summary = SeedSummary(scale, seed)
        self.staged: list[tuple[str, tuple[str, ...], list[list[tuple]], int]] | None = None
        self.counts: dict[str, int] = {}  # rows the outbox's events refer to

    def rng(self, table: str) -> Any:
        """One generator per table, so tables stay stable if another one changes."""
        return self.np.random.default_rng([self.seed, STREAMS.index(table)])

    # -- orchestration -------------------------------------------------------------

    def run(self) -> SeedSummary:
        # SQLite loads the outbox first: a seed that failed halfway may have
        # left events and no users.
        if self.store.db.execute_sql("SELECT EXISTS (SELECT 1 FROM users) OR EXISTS "
                                     "(SELECT 1 FROM service_sync)").fetchone()[0]:
            db = shlex.quote(self.store.url)
            raise ConfigurationError(
                f"the database already has users or outbox events: seed a fresh one "
                f"(azora-store migrate down --all --yes --db {db} && azora-store init "
                f"--db {db}, or a new file/database)")
        self.cipher = self.store.compliance.cipher  # no key set: fail before loading
        began = time.perf_counter()
        self._timed("plan (jobs, applicants)", self._plan)
        aside = self.backend.bulk_load_aside()
        if aside is None:
            self._load_beside_the_outbox()
        else:
            self._load_with_the_outbox_aside(aside)
        self._timed("sequences", lambda: self.backend.reset_sequences(TABLES))
        for table, expected in self.counts.items():
            if self.summary.rows[table] != expected:  # the outbox's events would dangle
                raise RuntimeError(f"seed: {table} has {self.summary.rows[table]} rows, "
                                   f"the outbox was planned for {expected}")
        self.summary.rows = {table: self.summary.rows[table] for table in TABLES
                             if table in self.summary.rows}  # load order differs by backend
        self.summary.total_seconds = time.perf_counter() - began
        return self.summary

    def _plan(self) -> None:
        """Draw what the outbox's events refer to, before any row is built."""
        self._draw_jobs()
        self._draw_applicants()
        self.counts = {"applications": len(self.applicants["job"]),
                       "escrows": int((self.job_arrays["freelancer"] > 0).sum()),
                       "kyc_verifications": len(self._kyc_users(self.rng("kyc_verifications")))}

    def _build_tables(self) -> None:
        """Every table but the outbox, in dependency order."""
        self._users()
        self._courses_and_enrollments()
        self._jobs()
        self._job_skills()
        self._applications()
        self._money()
        self._reviews()
        self._skill_verifications()
        self._kyc()
        self._aml()
        self._user_counters()  # from the rows above: the load bypassed their triggers

    def _load_beside_the_outbox(self) -> None:
        """SQLite (one writer): the outbox is built inside the database first,
        a million events per statement that runs in C without the GIL, while a
        thread builds every other table's rows in memory (~40 s of Python at
        large scale, most of it hidden); the rows are written after. Writing
        them while the thread works would be slower than either: each row's
        insert hands the GIL over and waits to get it back."""
        with self.backend.bulk_load(TABLES, keep_indexes=("service_sync",),
                                    **self._search_alongside()):
            self.staged = []
            try:
                built = in_background(lambda: self._timed("rows built beside the outbox",
                                                           self._build_or_stop),
                                      then=lambda: None)
                try:
                    self._outbox(self.backend)
                except BaseException:
                    wait_after_failure(built)
                    raise
                built()  # raises what the build raised (the outbox stopped early)
                staged = self.staged
            finally:
                self.staged = None
            for table, columns, chunks, total in staged:
                self._load(table, columns, iter(chunks), total)
            restoring = time.perf_counter()
        self.summary.seconds["indexes, triggers, analyze"] = time.perf_counter() - restoring

    def _load_with_the_outbox_aside(self, aside: Any) -> None:
        """Postgres: the outbox loads on a second connection from the start
        (counted from the plan), while rows stream into COPY on this one as
        they are built; the search index is rebuilt on a third while this one
        rebuilds the other indexes (tens of seconds each at large scale)."""
        wait_for_outbox = in_background(lambda: self._load_outbox(aside),
                                        then=aside.db.close)
        try:
            with self.backend.bulk_load(TABLES[:-len(OUTBOX_TABLES)],
                                        **self._search_alongside()):
                self._build_tables()
                restoring = time.perf_counter()
            self.summary.seconds["indexes, triggers, analyze"] = (time.perf_counter()
                                                                   - restoring)
        except BaseException:
            self.stop.set()
            wait_after_failure(wait_for_outbox)
            raise
        wait_for_outbox()

    def _build_or_stop(self) -> None:
        """Build the tables; if that fails, stop the outbox's load early."""
        try:
            self._build_tables()
        except BaseException:
            self.stop.set()
            raise

    def _search_alongside(self) -> dict[str, Any]:
        """The search index is rebuilt (from the jobs and their skills) once the
        rows are in: alongside the other indexes where the backend can."""
        return {"alongside": lambda: self._timed("search index",
                                                 self.backend.rebuild_job_search),
                "alongside_tables": ("jobs",)}

    def _load_outbox(self, backend: Any) -> None:
        """The outbox's indexes are all partial over the few unfinished events:
        maintaining them costs less than six scans of 10M rows to rebuild them."""
        with backend.bulk_load(OUTBOX_TABLES, keep_indexes=("service_sync",)):
            self._outbox(backend)
            restoring = time.perf_counter()
        self.summary.seconds["outbox: indexes, vacuum, analyze"] = (time.perf_counter()
                                                                    - restoring)

    def _timed(self, label: str, action: Callable[[], Any]) -> None:
        started = time.perf_counter()
        action()
        self.summary.seconds[label] = time.perf_counter() - started

    def _load(self, table: str, columns: tuple[str, ...], chunks: Iterator[list[tuple]],
              total: int) -> None:
        """Write a table's rows, or only build them while the outbox loads."""
        if self.staged is not None:
            self.staged.append((table, columns, list(chunks), total))
            return
        started = time.perf_counter()
        done = 0
        self.report(table, 0, total)
        for rows in chunks:
            self.backend.copy_rows(table, columns, rows)
            done += len(rows)
            if done < total:
                self.report(table, done, total)
        self.report(table, done, done)  # ``total`` may have been an estimate
        self.summary.rows[table] = self.summary.rows.get(table, 0) + done
        self.summary.seconds[table] = (self.summary.seconds.get(table, 0.0)
                                       + time.perf_counter() - started)

    def _spans(self, total: int, chunk: int = CHUNK) -> Iterator[tuple[int, int]]:
        for start in range(0, total, chunk):
            yield start, min(start + chunk, total)
