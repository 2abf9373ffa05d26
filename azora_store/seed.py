"""``azora-store seed``: a deterministic marketplace at a chosen scale.

The same ``--seed`` gives the same rows (ids, texts, amounts, timestamps) on
either backend, so query results can be compared across backends. Shape:

- skills follow a Zipf-like popularity over 500 skills, ~3 per job (1 to 5);
- jobs: 20% OPEN (more among recent jobs), 10% IN_PROGRESS, 60% COMPLETED,
  10% CANCELLED; budgets log-uniform from 50 to 50,000; eight currencies;
- ~3 applications per job, the hired freelancer's accepted, the rest rejected;
- every hired job has a funded escrow, released for completed jobs, with the
  deposit, funding and release transfers in the ledger (balances consistent);
- reviews for ~73% of completed jobs per party; KYC for 80% of users (document
  numbers encrypted with the configured field key);
- outbox events: the newest 3% unfinished (pending, failed, stuck), the rest
  completed, with exact counters.

Rows are generated as numpy column arrays, chunk by chunk, and written through
the backend's bulk path (SQLite: executemany in big transactions; Postgres:
COPY) with secondary indexes and triggers dropped during the load and rebuilt
after it. Large (1M users, 1M jobs, 3M applications, 10M events) is meant for
benchmarks run by hand.
"""

from __future__ import annotations

import shlex
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from .errors import ConfigurationError
from .extras import require
from .money import CURRENCIES
from .seed_words import DESCRIPTION_WORDS, SKILLS, TITLE_OPENERS, TITLE_ROLES, TITLE_TASKS
from .threads import in_background, wait_after_failure

END = datetime(2026, 11, 1)  # fixed, so the same seed gives the same timestamps
START = END - timedelta(days=730)
CHUNK = 200_000
OUTBOX_CHUNK = 1_000_000  # events per INSERT ... SELECT (one transaction each)
# Outbox event kinds. The service and status of event i depend on i only
# through i % 2, i % 100, the kind (i * 40503 + salt) % KINDS and whether it is
# finished: all repeat every KINDS events, which ``_counters_sql`` relies on.
KINDS = 1_000
CURRENCY_WEIGHTS = (0.60, 0.12, 0.08, 0.06, 0.05, 0.04, 0.03, 0.02)
FIRST = ("amara", "kofi", "zanele", "tunde", "wanjiru", "lindiwe", "chidi", "fatima", "joseph",
         "nadia", "samuel", "grace", "ibrahim", "thandi", "omar", "ama", "peter", "lerato")
LAST = ("okafor", "mensah", "dlamini", "abebe", "kamau", "nkosi", "adeyemi", "hassan",
        "mwangi", "owusu", "banda", "diallo", "achieng", "moyo", "sithole", "ndlovu")
DOMAINS = ("example.org", "mail.example", "azora.test", "post.example")


@dataclass(frozen=True)
class Scale:
    users: int
    jobs: int
    applications: int
    outbox: int


SCALES: dict[str, Scale] = {
    "tiny": Scale(users=1_000, jobs=1_000, applications=3_000, outbox=10_000),
    "small": Scale(users=20_000, jobs=20_000, applications=60_000, outbox=200_000),
    "medium": Scale(users=200_000, jobs=200_000, applications=600_000, outbox=2_000_000),
    "large": Scale(users=1_000_000, jobs=1_000_000, applications=3_000_000, outbox=10_000_000),
}

# Tables written by the seed, in dependency order.
TABLES = ("users", "courses", "enrollments", "jobs", "job_skills", "applications", "escrows",
          "accounts", "ledger_transactions", "transfers", "reviews", "skill_verifications",
          "kyc_verifications", "aml_checks", "service_sync", "sync_counters")
OUTBOX_TABLES = TABLES[-2:]  # loaded last (by count of the rest), maybe concurrently


@dataclass
class SeedSummary:
    scale: str
    seed: int
    rows: dict[str, int] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)
    total_seconds: float = 0.0


Report = Callable[[str, int, int], None]  # table, rows so far, rows expected


def _numpy() -> Any:
    return require("numpy", "the seed generator")


def zipf_weights(n: int, exponent: float) -> Any:
    np = _numpy()
    weights = 1.0 / np.arange(1, n + 1) ** exponent
    return weights / weights.sum()


def _stamp(np: Any, seconds: Any) -> list[str]:
    """Seconds after START -> 'YYYY-MM-DD HH:MM:SS.ffffff' (what peewee writes).

    Built as fixed-width characters with integer arithmetic: the day from a
    table of the few distinct dates, the time of day digit by digit.
    ``np.datetime_as_string`` took 0.7 s per million, a tenth of a large seed."""
    micros = (np.asarray(seconds) * 1e6).astype("int64")
    if micros.min(initial=0) < 0:
        raise ValueError("seed timestamps start at START")
    days, of_day = np.divmod(micros, 86_400_000_000)
    first = np.datetime64(START.date(), "D")
    dates = np.datetime_as_string(first + np.arange(days.max(initial=0) + 1)).astype("U10")
    text = np.empty((len(micros), 26), dtype=np.uint32)
    text[:, :10] = dates.view(np.uint32).reshape(-1, 10)[days]
    text[:, 10], text[:, 13], text[:, 16], text[:, 19] = ord(" "), ord(":"), ord(":"), ord(".")
    for position, unit, modulus, digits in ((11, 3_600_000_000, 24, 2), (14, 60_000_000, 60, 2),
                                            (17, 1_000_000, 60, 2), (20, 1, 1_000_000, 6)):
        value = of_day // unit % modulus
        for place in range(digits):
            text[:, position + digits - 1 - place] = ord("0") + value // 10 ** place % 10
    return text.view("U26").ravel().tolist()


class Seeder:
    def __init__(self, store: Any, scale: str, seed: int = 42, report: Report | None = None):
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
        return self.np.random.default_rng([self.seed, TABLES.index(table)])

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
        # The load bypassed the triggers that keep them: one INSERT ... SELECT.
        self._timed("user counters", self.backend.fill_user_counters)
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

    # -- users and learning ----------------------------------------------------------

    def _users(self) -> None:
        np, rng, n = self.np, self.rng("users"), self.scale.users
        created = np.sort(rng.uniform(0, (END - START).total_seconds() * 0.9, n))
        self.user_created = created
        first, last = rng.integers(0, len(FIRST), n), rng.integers(0, len(LAST), n)
        domain = rng.integers(0, len(DOMAINS), n)
        role = rng.choice(np.array(["MEMBER", "INSTRUCTOR", "ADMIN"]), n, p=(0.97, 0.025, 0.005))
        self.instructors = np.flatnonzero(role == "INSTRUCTOR") + 1
        deleted = rng.random(n) < 0.01
        stamps = _stamp(np, created)
        gone = _stamp(np, created + 86_400 * 30)
        # Python lists, not numpy scalars, in the per-row loops (a third of their time).
        first, last, domain = first.tolist(), last.tolist(), domain.tolist()
        role, deleted = role.tolist(), deleted.tolist()
        names = [name.title() for name in FIRST], [name.title() for name in LAST]

        def chunks() -> Iterator[list[tuple]]:
            for a, b in self._spans(n):
                yield [(i + 1, f"{FIRST[first[i]]}.{LAST[last[i]]}{i + 1}@{DOMAINS[domain[i]]}",
                        f"{names[0][first[i]]} {names[1][last[i]]}", role[i],
                        stamps[i], stamps[i], gone[i] if deleted[i] else None)
                       for i in range(a, b)]

        self._load("users", ("id", "email", "full_name", "role", "created_at", "updated_at",
                             "deleted_at"), chunks(), n)

    def _courses_and_enrollments(self) -> None:
        np, rng = self.np, self.rng("courses")
        count = max(10, self.scale.users // 100)
        instructors = self.instructors if len(self.instructors) else np.array([1])
        teacher = rng.choice(instructors, count)
        status = rng.choice(np.array(["PUBLISHED", "DRAFT", "ARCHIVED"]), count, p=(.9, .05, .05))
        topic = rng.integers(0, 60, count)
        stamp = _stamp(np, rng.uniform(0, (END - START).total_seconds(), count))
        rows = [(i + 1, int(teacher[i]), f"{SKILLS[topic[i]].title()} from scratch, part "
                 f"{i % 7 + 1}", "", str(status[i]), stamp[i], stamp[i]) for i in range(count)]
        self._load("courses", ("id", "instructor_id", "title", "description", "status",
                               "created_at", "updated_at"), iter([rows]), count)

        rng = self.rng("enrollments")
        wanted = self.scale.users // 2
        pairs = np.unique(rng.integers(0, self.scale.users, wanted) * count
                          + rng.choice(count, wanted, p=zipf_weights(count, 0.8)))
        user, course = pairs // count + 1, pairs % count + 1
        n = len(pairs)
        status = rng.choice(np.array(["ACTIVE", "COMPLETED", "DROPPED"]), n, p=(.65, .30, .05))
        progress = np.where(status == "COMPLETED", 100, rng.integers(0, 100, n))
        enrolled = rng.uniform(0, (END - START).total_seconds() * 0.95, n)
        stamps, done = _stamp(np, enrolled), _stamp(np, enrolled + 86_400 * 20)
        user, course, status, progress = (column.tolist()
                                          for column in (user, course, status, progress))

        def chunks() -> Iterator[list[tuple]]:
            for a, b in self._spans(n):
                yield [(i + 1, user[i], course[i], status[i], progress[i],
                        stamps[i], done[i] if status[i] == "COMPLETED" else None, stamps[i])
                       for i in range(a, b)]

        self._load("enrollments", ("id", "user_id", "course_id", "status", "progress",
                                   "enrolled_at", "completed_at", "updated_at"), chunks(), n)

    # -- marketplace -----------------------------------------------------------------

    def _draw_jobs(self) -> None:
        """What the outbox's plan and the applications need of the jobs (numpy
        columns); their texts are drawn when their rows are built."""
        np, rng, n, users = self.np, self.rng("jobs"), self.scale.jobs, self.scale.users
        span = (END - START).total_seconds()
        created = np.sort(rng.uniform(0, span, n))
        age = created / span  # 0 = oldest, 1 = newest
        open_ = rng.random(n) < 0.05 + 0.30 * age  # 20% overall, more among recent jobs
        other = rng.choice(np.array(["IN_PROGRESS", "COMPLETED", "CANCELLED"]), n,
                           p=(0.125, 0.75, 0.125))
        status = np.where(open_, "OPEN", other)
        client = rng.choice(users, n, p=zipf_weights(users, 0.5)) + 1
        freelancer = (client + rng.integers(1, users, n) - 1) % users + 1  # never the client
        hired = (status == "IN_PROGRESS") | (status == "COMPLETED")
        budget = (np.round(np.exp(rng.uniform(np.log(50), np.log(50_000), n)) / 5) * 500
                  ).astype(int)
        self.job_arrays = {"created": created, "status": status, "client": client,
                           "freelancer": np.where(hired, freelancer, 0), "open": open_,
                           "budget": budget}
        self.jobs_rng = rng  # the texts' draws continue from here

    def _jobs(self) -> None:
        np, rng, n, planned = self.np, self.jobs_rng, self.scale.jobs, self.job_arrays
        span = (END - START).total_seconds()
        currency = rng.choice(np.array(CURRENCIES), n, p=CURRENCY_WEIGHTS)
        closed = np.minimum(planned["created"] + rng.uniform(86_400, 86_400 * 60, n), span)
        deleted = rng.random(n) < 0.005
        skills = self._draw_skills(rng, n)
        words = rng.choice(len(DESCRIPTION_WORDS), (n, 28),
                           p=zipf_weights(len(DESCRIPTION_WORDS), 1.0))
        length = rng.integers(12, 28, n).tolist()
        opener, role = rng.integers(0, len(TITLE_OPENERS), n), rng.integers(0, len(TITLE_ROLES), n)
        opener, role, task = opener.tolist(), role.tolist(), rng.integers(0, len(TITLE_TASKS),
                                                                          n).tolist()
        stamps, closes = _stamp(np, planned["created"]), _stamp(np, closed)
        self.jobs = {"created": planned["created"], "status": planned["status"].tolist(),
                     "client": planned["client"].tolist(),
                     "freelancer": planned["freelancer"].tolist(),
                     "budget": planned["budget"].tolist(), "currency": currency.tolist(),
                     "deleted": deleted.tolist(), "skills": skills, "stamps": stamps,
                     "closed": closes}
        status, client, hired_by, budget, currency, deleted = (self.jobs[name] for name in (
            "status", "client", "freelancer", "budget", "currency", "deleted"))

        def chunks() -> Iterator[list[tuple]]:
            for a, b in self._spans(n):
                rows = []
                for i, drawn in enumerate(words[a:b].tolist(), start=a):
                    first_skill = SKILLS[skills[i][0]]
                    extra = " ".join(SKILLS[s] for s in skills[i][1:])
                    title = (f"{TITLE_OPENERS[opener[i]]} {first_skill} {TITLE_ROLES[role[i]]} "
                             f"{TITLE_TASKS[task[i]]}")
                    description = " ".join([DESCRIPTION_WORDS[w] for w in drawn[:length[i]]]
                                           + ([extra] if extra else []))
                    state = status[i]
                    is_closed = state in ("COMPLETED", "CANCELLED")
                    rows.append((i + 1, client[i], hired_by[i] or None, title, description,
                                 state, budget[i], currency[i], stamps[i],
                                 closes[i] if is_closed else stamps[i],
                                 closes[i] if is_closed else None,
                                 closes[i] if deleted[i] else None))
                yield rows

        self._load("jobs", ("id", "client_id", "freelancer_id", "title", "description", "status",
                            "budget_minor", "currency", "created_at", "updated_at", "closed_at",
                            "deleted_at"), chunks(), n)

    def _draw_skills(self, rng: Any, n: int) -> list[list[int]]:
        """1 to 5 distinct skills per job (mean ~3), Zipf-like popularity."""
        draws = rng.choice(len(SKILLS), (n, 8), p=zipf_weights(len(SKILLS), 1.07))
        counts = rng.choice(5, n, p=(0.10, 0.25, 0.35, 0.20, 0.10)) + 1
        chosen = []
        for row, count in zip(draws.tolist(), counts.tolist(), strict=True):
            picked: list[int] = []
            for skill in row:
                if skill not in picked:
                    picked.append(skill)
                    if len(picked) == count:
                        break
            chosen.append(picked)
        return chosen

    def _job_skills(self) -> None:
        jobs = self.jobs
        total = sum(len(s) for s in jobs["skills"])

        def chunks() -> Iterator[list[tuple]]:
            rows: list[tuple] = []
            for i, skills in enumerate(jobs["skills"]):
                status, stamp = jobs["status"][i], jobs["stamps"][i]
                listed = None if jobs["deleted"][i] else status
                opened = stamp if listed == "OPEN" else None
                other = None if listed == "OPEN" else listed  # see JobSkill.job_status
                budget, currency = jobs["budget"][i], jobs["currency"][i]
                rows.extend((i + 1, SKILLS[s], opened, budget, currency, other, stamp)
                            for s in skills)
                if len(rows) >= CHUNK:
                    yield rows
                    rows = []
            if rows:
                yield rows

        self._load("job_skills", ("job_id", "skill", "open_created_at", "budget_minor",
                                  "currency", "job_status", "job_created_at"), chunks(), total)

    def _draw_applicants(self) -> None:
        """Every job's applicants in order, the hired freelancer first and then
        ~3 drawn candidates, each freelancer once per job, never the client:
        numpy columns, so the number of applications is known before any row
        is built (the outbox's events refer to them)."""
        np, rng, jobs, users = self.np, self.rng("applications"), self.job_arrays, self.scale.users
        n_jobs = self.scale.jobs
        per_job = rng.poisson(max(self.scale.applications / n_jobs - 0.7, 0.1), n_jobs)
        draws = int(per_job.sum()) + n_jobs  # a block of per_job + 1 draws per job
        candidates = rng.integers(1, users, draws)
        bids = rng.uniform(0.7, 1.2, draws)
        delays = rng.uniform(600, 86_400 * 5, draws)
        withdrawn = rng.random(draws) < 0.1
        client, hired = jobs["client"], jobs["freelancer"]
        has_hired = (hired > 0).astype(np.int64)
        slots = per_job + has_hired  # the hired freelancer, then the candidates
        job = np.repeat(np.arange(n_jobs), slots)
        slot = np.arange(len(job)) - (np.cumsum(slots) - slots)[job]
        block = (np.cumsum(per_job + 1) - (per_job + 1))[job]  # the job's first draw
        candidate = slot - has_hired[job]
        freelancer = np.where(candidate < 0, hired[job],
                              (client[job] + candidates[block + np.maximum(candidate, 0)] - 1)
                              % users + 1)
        at = np.minimum(block + slot, draws - 1)  # the draw giving bid, stamp, withdrawal
        first = np.zeros(len(job), dtype=bool)
        first[np.unique(job * (users + 1) + freelancer, return_index=True)[1]] = True
        kept = np.flatnonzero(first & (freelancer != client[job]))
        job, freelancer, at = job[kept], freelancer[kept], at[kept]
        state = np.where(freelancer == hired[job], "ACCEPTED",
                         np.where(withdrawn[at], "WITHDRAWN",
                                  np.where(jobs["open"][job], "PENDING", "REJECTED")))
        bid = np.rint(jobs["budget"][job] * bids[at] / 100).astype(np.int64) * 100
        self.applicants = {"job": job + 1, "freelancer": freelancer,
                           "bid": np.where(bid == 0, 100, bid), "state": state, "at": at,
                           "applied": np.repeat(jobs["created"], per_job + 1)[:draws] + delays}

    def _applications(self) -> None:
        applicants = self.applicants
        job, freelancer, bid, state, at = (applicants[name].tolist() for name in (
            "job", "freelancer", "bid", "state", "at"))
        stamps = _stamp(self.np, applicants["applied"])

        def chunks() -> Iterator[list[tuple]]:
            for a, b in self._spans(len(job)):
                yield [(i + 1, job[i], freelancer[i], "", bid[i], state[i], stamps[at[i]],
                        stamps[at[i]]) for i in range(a, b)]

        self._load("applications", ("id", "job_id", "freelancer_id", "cover_letter",
                                    "bid_minor", "status", "created_at", "updated_at"),
                   chunks(), len(job))

    def _money(self) -> None:
        """Escrows for hired jobs, their accounts, and the deposit -> fund ->
        release transfers, with every balance computed here (the balance trigger
        is off during the load)."""
        jobs = self.jobs
        budgets, currencies, clients, freelancers, statuses, stamps = (jobs[name] for name in (
            "budget", "currency", "client", "freelancer", "status", "stamps"))
        accounts: list[tuple] = [(number, "EXTERNAL", None, None, currency)
                                 for number, currency in enumerate(CURRENCIES, start=1)]
        external = {currency: number for number, currency in enumerate(CURRENCIES, start=1)}
        balance = [0] * (len(accounts) + 1)  # by account id
        wallets: dict[tuple[int, str], int] = {}

        def wallet(owner: int, currency: str) -> int:
            number = wallets.get((owner, currency))
            if number is None:
                number = wallets[(owner, currency)] = len(accounts) + 1
                accounts.append((number, "WALLET", owner, None, currency))
                balance.append(0)
            return number

        escrows: list[tuple] = []
        transactions: list[tuple] = []
        transfers: list[tuple] = []

        def move(kind: str, escrow: int | None, source: int, target: int, amount: int,
                 currency: str, stamp: str) -> None:
            tx = len(transactions) + 1
            transactions.append((tx, kind, escrow, "", stamp))
            transfers.append((tx, tx, kind, source, target, amount, currency, stamp))
            balance[source] -= amount
            balance[target] += amount

        for j, freelancer in enumerate(freelancers):
            if not freelancer:
                continue
            amount, currency, client = budgets[j], currencies[j], clients[j]
            released, stamp = statuses[j] == "COMPLETED", stamps[j]
            number = len(escrows) + 1
            escrows.append((number, j + 1, client, freelancer, amount, currency,
                            "RELEASED" if released else "FUNDED", stamp, stamp))
            held = len(accounts) + 1
            accounts.append((held, "ESCROW", None, number, currency))
            balance.append(0)
            paying = wallet(client, currency)
            move("DEPOSIT", None, external[currency], paying, amount, currency, stamp)
            move("ESCROW_FUND", number, paying, held, amount, currency, stamp)
            if released:
                move("ESCROW_RELEASE", number, held, wallet(freelancer, currency), amount,
                     currency, stamp)
        now = str(END)
        account_rows = [(*account, balance[account[0]], now, now) for account in accounts]
        self._load("escrows", ("id", "job_id", "client_id", "freelancer_id", "amount_minor",
                               "currency", "status", "created_at", "updated_at"),
                   iter(_chunked(escrows)), len(escrows))
        self._load("accounts", ("id", "kind", "owner_id", "escrow_id", "currency",
                                "balance_minor", "created_at", "updated_at"),
                   iter(_chunked(account_rows)), len(account_rows))
        self._load("ledger_transactions", ("id", "kind", "escrow_id", "memo", "created_at"),
                   iter(_chunked(transactions)), len(transactions))
        self._load("transfers", ("id", "transaction_id", "kind", "from_account_id",
                                 "to_account_id", "amount_minor", "currency", "created_at"),
                   iter(_chunked(transfers)), len(transfers))

    def _reviews(self) -> None:
        rng, jobs = self.rng("reviews"), self.jobs
        done = [j for j in range(self.scale.jobs) if jobs["status"][j] == "COMPLETED"]
        by_client, by_freelancer = rng.random(len(done)) < 0.8, rng.random(len(done)) < 0.67
        ratings = (rng.choice(5, (len(done), 2), p=(0.05, 0.05, 0.10, 0.25, 0.55)) + 1).tolist()
        by_client, by_freelancer = by_client.tolist(), by_freelancer.tolist()
        rows = []
        for k, j in enumerate(done):
            client, freelancer, stamp = jobs["client"][j], jobs["freelancer"][j], jobs["closed"][j]
            if by_client[k]:
                rows.append((len(rows) + 1, j + 1, client, freelancer, ratings[k][0], "", stamp))
            if by_freelancer[k]:
                rows.append((len(rows) + 1, j + 1, freelancer, client, ratings[k][1], "", stamp))
        self._load("reviews", ("id", "job_id", "reviewer_id", "reviewee_id", "rating", "comment",
                               "created_at"), iter(_chunked(rows)), len(rows))

    def _skill_verifications(self) -> None:
        np, rng = self.np, self.rng("skill_verifications")
        wanted = self.scale.users // 10
        pairs = np.unique(rng.integers(0, self.scale.users, wanted) * len(SKILLS)
                          + rng.choice(len(SKILLS), wanted, p=zipf_weights(len(SKILLS), 1.07)))
        levels = rng.choice(np.array(["BEGINNER", "INTERMEDIATE", "ADVANCED", "EXPERT"]),
                            len(pairs))
        score = rng.integers(40, 101, len(pairs))
        now = str(END)
        rows = [(i + 1, int(p // len(SKILLS)) + 1, SKILLS[int(p % len(SKILLS))], str(levels[i]),
                 int(score[i]), "", now, now, now) for i, p in enumerate(pairs.tolist())]
        self._load("skill_verifications", ("id", "user_id", "skill", "level", "score",
                                           "evidence", "verified_at", "created_at",
                                           "updated_at"), iter(_chunked(rows)), len(rows))

    # -- compliance ------------------------------------------------------------------

    def _kyc(self) -> None:
        from .compliance.kyc import PURPOSE as KYC_PURPOSE
        from .crypto import mask

        np, rng = self.np, self.rng("kyc_verifications")
        chosen = self._kyc_users(rng)
        n = len(chosen)
        status = rng.choice(np.array(["APPROVED", "PENDING", "REJECTED", "EXPIRED"]), n,
                            p=(0.70, 0.15, 0.10, 0.05))
        risk = rng.choice(np.array(["LOW", "MEDIUM", "HIGH"]), n, p=(0.8, 0.15, 0.05))
        kind = rng.choice(np.array(["PASSPORT", "NATIONAL_ID", "DRIVERS_LICENSE"]), n)
        country = rng.choice(np.array(["ZA", "NG", "KE", "GH", "EG", "GB", "US"]), n)
        stamps = _stamp(np, self.user_created[chosen - 1] + 3_600)
        chosen, status, risk, kind, country = (column.tolist() for column in (
            chosen, status, risk, kind, country))
        cipher, purpose = self.cipher, KYC_PURPOSE

        def chunks() -> Iterator[list[tuple]]:
            for a, b in self._spans(n):
                rows = []
                for i in range(a, b):
                    user = chosen[i]
                    number = document_number(user)
                    state = status[i]
                    reviewed = stamps[i] if state != "PENDING" else None
                    rows.append((i + 1, user, state, risk[i] if reviewed else None,
                                 kind[i], country[i], cipher.encrypt(number, purpose),
                                 cipher.blind_index(number, purpose), mask(number),
                                 cipher.key_id, "", stamps[i], reviewed, stamps[i], stamps[i]))
                yield rows

        self._load("kyc_verifications", (
            "id", "user_id", "status", "risk_level", "document_type", "country",
            "document_ciphertext", "document_index", "document_masked", "key_id",
            "rejection_reason", "submitted_at", "reviewed_at", "created_at", "updated_at"),
            chunks(), n)

    def _kyc_users(self, rng: Any) -> Any:
        """The 80% of users with a KYC record (the table's first draw)."""
        return self.np.flatnonzero(rng.random(self.scale.users) < 0.8) + 1

    def _aml(self) -> None:
        rng = self.rng("aml_checks")
        n = max(10, self.scale.users // 20)
        user = rng.integers(1, self.scale.users + 1, n)
        score = rng.integers(0, 101, n)
        now = str(END)
        rows = [(i + 1, int(user[i]), int(score[i]), bool(score[i] >= 80),
                 "velocity" if score[i] >= 80 else "", "rules-2026.10", "internal", now)
                for i in range(n)]
        self._load("aml_checks", ("id", "user_id", "score", "flagged", "reason", "rule_version",
                                  "provider", "created_at"), iter(_chunked(rows)), n)

    # -- outbox ----------------------------------------------------------------------

    def _outbox(self, backend: Any) -> None:
        """Ten events per job, generated inside the database by INSERT ... SELECT
        over a row series, a million per statement (Python would spend ~9 us a
        row building and binding 18 columns). Integer hashing of the row number
        picks the kind of event (entity, its id range, service) from a 1,000-row
        lookup table, and operation and status, identically on both backends;
        the newest 3% are unfinished. Timestamps come from a small lookup table
        too."""
        n, db = self.scale.outbox, backend.db
        started = time.perf_counter()
        self.report("service_sync", 0, n)
        per_stamp, window = 100, 60 * 86_400.0  # one timestamp per 100 events, last 60 days
        first = END - timedelta(seconds=window)
        step = window / max(n, 1) * per_stamp
        stamp_type = db.get_context_options()["field_types"]["DATETIME"]
        for table in ("seed_stamps", "seed_kinds"):
            db.execute_sql(f"DROP TABLE IF EXISTS {table}")
        db.execute_sql(f"CREATE TEMPORARY TABLE seed_stamps (k INTEGER PRIMARY KEY, "
                       f"created {stamp_type}, done {stamp_type})")
        db.execute_sql("CREATE TEMPORARY TABLE seed_kinds (k INTEGER PRIMARY KEY, entity TEXT, "
                       "ids INTEGER, even_service TEXT, odd_service TEXT)")
        stamps = [(k, backend.datetime_param(first + timedelta(seconds=k * step)),
                   backend.datetime_param(first + timedelta(seconds=k * step + 2.5)))
                  for k in range(n // per_stamp + 2)]
        backend.copy_rows("seed_stamps", ("k", "created", "done"), stamps)
        backend.copy_rows("seed_kinds", ("k", "entity", "ids", "even_service", "odd_service"),
                          [(k, *self._event_kind(k)) for k in range(KINDS)])
        salt = self.seed * 7919
        tail = f"((i * 7907 + {salt}) % 100)"
        number = f"(((i * 2654435761 + {salt}) % 1000003) % e.ids + 1)"
        operation = ("CASE WHEN i % 20 < 6 THEN 'CREATE' WHEN i % 20 < 18 THEN 'UPDATE' "
                     "WHEN i % 20 = 18 THEN 'DELETE' ELSE 'SYNC' END")
        finished = int(n * 0.97)
        status = (f"CASE WHEN i <= {finished} THEN 'COMPLETED' WHEN {tail} < 80 THEN 'PENDING' "
                  f"WHEN {tail} < 95 THEN 'FAILED' ELSE 'PROCESSING' END")
        payload = backend.sql_json(f"'{{\"id\":' || {number} || ',\"v\":' || (i % 7 + 1) || '}}'")
        service = "CASE WHEN i % 2 = 0 THEN e.even_service ELSE e.odd_service END"
        kind = f"JOIN seed_kinds AS e ON e.k = (i * 40503 + {salt}) % {KINDS}"
        sql = (
            "{series} INSERT INTO service_sync (id, service, entity_type, "
            "entity_id, operation, payload, status, ordering_key, blocked, attempts, "
            "max_attempts, available_at, lease_owner, lease_expires_at, last_error, "
            "created_at, updated_at, completed_at) "
            f"SELECT i, {service}, e.entity, CAST({number} AS TEXT), {operation}, {payload}, "
            f"{status}, e.entity || ':' || {number}, false, "
            f"CASE WHEN i <= {finished} THEN 1 WHEN {tail} < 80 THEN 0 WHEN {tail} < 95 "
            "THEN 3 ELSE 1 END, 3, s.created, "
            f"CASE WHEN i > {finished} AND {tail} >= 95 THEN 'seed:1:stale' END, "
            f"CASE WHEN i > {finished} AND {tail} >= 95 THEN s.created END, "
            f"CASE WHEN i > {finished} AND {tail} >= 80 AND {tail} < 95 "
            "THEN 'TimeoutError: the service did not answer' END, s.created, "
            f"CASE WHEN i <= {finished} THEN s.done ELSE s.created END, "
            f"CASE WHEN i <= {finished} THEN s.done END "
            f"FROM seq JOIN seed_stamps AS s ON s.k = i / {per_stamp} {kind}")
        for low, high in self._spans(n, OUTBOX_CHUNK):  # bounded transactions, progress
            if self.stop.is_set():  # the rest of the load failed: do not finish this
                return
            with db.atomic():
                db.execute_sql(sql.replace("{series}", backend.sql_series(low + 1, high)))
            self.report("service_sync", high, n)
        if n:
            with db.atomic():
                db.execute_sql(self._counters_sql(backend, service, status, kind, finished))
        for table in ("seed_stamps", "seed_kinds"):
            db.execute_sql(f"DROP TABLE {table}")
        self.summary.rows["service_sync"] = n
        self.summary.seconds["service_sync"] = time.perf_counter() - started

    def _counters_sql(self, backend: Any, service: str, status: str, kind: str,
                      finished: int) -> str:
        """The exact counters without reading the events back (a GROUP BY over
        10M rows took 6-10 s): service and status depend on the event number
        only through its remainder modulo K = ``KINDS`` and whether it is
        finished, so the same expressions over one representative per remainder,
        weighted by how many events of [low, high] share it, give the counts.
        #{x in [low, high] : x = r mod K} = (high + K - r) / K - (low - 1 + K - r) / K
        in integer division, r = x mod K (both operands are positive)."""
        k = KINDS
        after = (finished // k + 1) * k  # representatives above ``finished``
        parts = [f"SELECT {service} AS service, {status} AS status, "
                 f"(({high} + {k} - i % {k}) / {k} - ({low} - 1 + {k} - i % {k}) / {k}) AS n "
                 f"FROM (SELECT i + {offset} AS i FROM seq) AS x {kind}"
                 for low, high, offset in ((1, finished, 0), (finished + 1, self.scale.outbox,
                                                               after))
                 if high >= low]
        return (f"{backend.sql_series(1, KINDS)} INSERT INTO sync_counters (service, status, "
                f"count) SELECT service, status, SUM(n) FROM ({' UNION ALL '.join(parts)}) "
                "AS counted GROUP BY service, status HAVING SUM(n) > 0")

    def _event_kind(self, kind: int) -> tuple[str, int, str, str]:
        """Event kind 0-999 -> (entity, how many of it there are, the service of
        even and of odd events): 40% jobs, 30% applications, 15% users, 10%
        escrows, 5% KYC."""
        rows = self.counts
        if kind < 400:
            return "Job", self.scale.jobs, "search", "notifications"
        if kind < 700:
            return "Application", rows["applications"], "notifications", "notifications"
        if kind < 850:
            return "User", self.scale.users, "search", "crm"
        if kind < 950:
            return "Escrow", rows["escrows"], "billing", "billing"
        return "KYC", rows["kyc_verifications"], "compliance", "compliance"


def document_number(user_id: int) -> str:
    """The seeded document number of a user (benchmarks look users up by it)."""
    return f"A{(user_id * 2_654_435_761) % 10**8:08d}"


def _chunked(rows: list[tuple]) -> Iterator[list[tuple]]:
    for start in range(0, len(rows), CHUNK):
        yield rows[start:start + CHUNK]
