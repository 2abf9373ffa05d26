"""Benchmark fixtures (the pytest plugin of the suite in ``suite/``, which
``azora-store bench`` runs): a seeded database per backend, parameters drawn
from it, the raw driver replaying the same SQL, the package timed in turns with
its baseline, and the threshold gate at the end. In a source checkout,
``benchmarks/`` loads this plugin too:

    pytest benchmarks --scale small               # seeds into .benchmarks/data once
    pytest benchmarks --scale large --db sqlite:////data/large.db   # one seeded database

The seeded databases are reused while their schema is current and their size
matches the scale. The field-encryption key used for seeding is kept next to
them (``.benchmarks/data/field.key``) unless ``AZORA_FIELD_KEY`` is set.
"""

from __future__ import annotations

import json
import os
import random
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit, urlunsplit

import pytest

from azora_store import open_store
from azora_store.backends import DatabaseURL, backend_class
from azora_store.bench.gate import Figures, breaches, table
from azora_store.bench.turns import in_turns
from azora_store.search.plans import capture
from azora_store.seed import SCALES, Seeder, document_number

if TYPE_CHECKING:
    from ..store import Store

#: Seeded datasets, under the working directory (the checkout for ``make bench``).
DATA = Path.cwd() / ".benchmarks" / "data"
PG_URL = os.environ.get("AZORA_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/test")
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
DRAWS = 200
# Look-ups by id (user_stats, kyc_lookup) warm up on this many draws only, and
# draw twice as many ids as they run rounds: no timed call, package or raw,
# reads an id read before in the run, so the pages are as cold as a random
# user's among a million (not a hot set warmed by the warm-up).
COLD_WARMUP = 20
Call = Callable[[], Any]


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("azora", "azora_store benchmarks")
    group.addoption("--scale", default="small", choices=list(SCALES),
                    help="dataset scale (seeded once per scale and seed)")
    group.addoption("--seed", type=int, default=42, help="seed of the generated dataset")
    group.addoption("--db", help="URL of an already seeded database (its backend only)")
    group.addoption("--rounds", type=int, default=300, help="timed calls per benchmark")
    group.addoption("--bench-json", help="write the percentile table to this JSON file")
    group.addoption("--bench-plot", metavar="DIR",
                    help="write PNG latency distributions (and raw timings) to DIR")
    group.addoption("--latency-seconds", type=float, default=3.0,
                    help="seconds of steady event flow per rate in the outbox latency benchmark")


# -- datasets ----------------------------------------------------------------------


def _field_key() -> None:
    """The suite's datasets are encrypted with the suite's own key (kept next to
    them), whatever AZORA_FIELD_KEY says; a database given with --db is read
    with AZORA_FIELD_KEY."""
    from azora_store.crypto import KEY_ENV, default_cipher, generate_key

    DATA.mkdir(parents=True, exist_ok=True)
    key_file = DATA / "field.key"
    if not key_file.exists():
        key_file.write_text(generate_key())
    os.environ[KEY_ENV] = key_file.read_text().strip()
    default_cipher.cache_clear()


def _seeded(store: Store, scale: str) -> bool:
    try:
        if store.migrations.pending():
            return False
        users = store.db.execute_sql("SELECT COUNT(*) FROM users").fetchone()[0]
        holder = store.db.execute_sql("SELECT MIN(user_id) FROM kyc_verifications").fetchone()[0]
        store.queries.kyc_lookup(document_number=document_number(holder))  # seeded with our key
    except Exception:
        return False
    return users == SCALES[scale].users


def _prepare(url: str, scale: str, seed: int, recreate: Callable[[], None]) -> None:
    with open_store(url) as store:
        if _seeded(store, scale):
            return
    recreate()
    with open_store(url) as store:
        store.migrate()
        Seeder(store, scale, seed).run()


@pytest.fixture(scope="session")
def scale(request: pytest.FixtureRequest) -> str:
    return request.config.getoption("--scale")


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
def bench_url(request: pytest.FixtureRequest, scale: str) -> str:
    seed = request.config.getoption("--seed")
    given = request.config.getoption("--db")
    if given:
        if backend_class(DatabaseURL.parse(given).scheme).name != request.param:
            pytest.skip(f"--db {given} is not a {request.param} database")
        return given
    if request.param == "sqlite":
        _field_key()
        path = DATA / f"{scale}-{seed}.db"
        DATA.mkdir(parents=True, exist_ok=True)

        def recreate() -> None:
            for suffix in ("", "-wal", "-shm"):
                Path(f"{path}{suffix}").unlink(missing_ok=True)

        _prepare(f"sqlite:///{path}", scale, seed, recreate)
        return f"sqlite:///{path}"
    _field_key()
    admin: PostgresAdmin = request.getfixturevalue("pg_admin")
    name = f"azora_bench_{scale}_{seed}"
    url = admin.ensure(name)
    _prepare(url, scale, seed, lambda: admin.fresh(name))
    return url


class PostgresAdmin:
    """Creates benchmark databases on a server: the one ``--db`` names when it is
    a Postgres database, else the one of $AZORA_TEST_PG_URL."""

    def __init__(self, connection: Any, base_url: str = PG_URL):
        self.connection = connection
        self.base_url = base_url  # the server's URL; url_for swaps the database name

    def url_for(self, name: str) -> str:
        return urlunsplit(urlsplit(self.base_url)._replace(path="/" + name))

    def fresh(self, name: str) -> str:
        self.connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        self.connection.execute(f'CREATE DATABASE "{name}"')
        return self.url_for(name)

    def ensure(self, name: str) -> str:
        exists = self.connection.execute("SELECT 1 FROM pg_database WHERE datname = %s",
                                         (name,)).fetchone()
        return self.url_for(name) if exists else self.fresh(name)

    @contextmanager
    def scratch(self, prefix: str) -> Iterator[str]:
        """A new database named ``<prefix>_<pid>_<random>`` for this run alone
        (two runs at once never share one), dropped when the block ends:
        normally, on a failure, or on Ctrl-C (pytest tears fixtures down then)."""
        name = f"{prefix}_{os.getpid()}_{uuid.uuid4().hex[:8]}"
        self.connection.execute(f'CREATE DATABASE "{name}"')
        try:
            yield self.url_for(name)
        finally:
            self.connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _admin_url(config: pytest.Config) -> str:
    """The server to create databases on: the one ``--db`` names, if it is a
    Postgres database (a scratch database beside it), else $AZORA_TEST_PG_URL's."""
    given = config.getoption("--db")
    if given and backend_class(DatabaseURL.parse(given).scheme).name == "postgresql":
        parts = urlsplit(given)
        return urlunsplit(parts._replace(scheme="postgresql", query=""))  # libpq's own form
    return PG_URL


@pytest.fixture(scope="session")
def pg_admin(request: pytest.FixtureRequest) -> Iterator[PostgresAdmin]:
    url = _admin_url(request.config)
    try:
        import psycopg

        connection = psycopg.connect(url, autocommit=True, connect_timeout=5)
    except Exception as exc:
        reason = f"PostgreSQL is unreachable at {url}: {exc}".splitlines()[0]
        if IN_CI:
            pytest.fail(f"{reason} (CI=true: the Postgres benchmarks must run)")
        pytest.skip(reason)
    yield PostgresAdmin(connection, url)
    connection.close()


@pytest.fixture(scope="session")
def store(bench_url: str) -> Iterator[Any]:
    with open_store(bench_url) as opened:
        yield opened


@pytest.fixture(scope="session")
def replays(store: Store) -> Callable[[list[Call]], list[Call]]:
    """``replays(calls)``: for each call, a callable that runs the SQL the call
    ran (captured once) through the bare driver, on the driver connection the
    package uses (``store.db.connection()``).

    The same connection, not a second one: on Postgres each connection is a
    server process, and on 2 cores a round trip to a process the scheduler
    left on the client's core took 42 us where one on the other core took
    75 us (a kyc_lookup/user statement, measured 2026-11-29), so with two
    connections the ratio read the processes' placement (0.66x to 1.88x from
    run to run) more than the package. On one connection it read 1.00-1.02 in
    six runs; on SQLite the choice made no difference (1.08 either way)."""
    backend, connection = store.backend, store.db.connection()

    def replay(call: Call) -> Call:
        statements = capture(store, call)
        return lambda: [backend.run_on(connection, sql, params, again)
                        for sql, params, again in statements]

    return lambda calls: [replay(call) for call in calls]


@pytest.fixture(scope="session")
def cold_replays(store: Store) -> Callable[..., list[Call]]:
    """``cold_replays(call_for, keys, probe, value_of)``: like ``replays`` for a
    look-up by one key, without running the look-up on the drawn keys: the SQL
    is captured once on ``probe`` (a key outside the draws) and replayed with
    each key's parameter (``value_of(key)``), so capturing warms no drawn page."""
    backend, connection = store.backend, store.db.connection()

    def replays(call_for: Callable[[Any], Any], keys: list[Any], probe: Any,
                value_of: Callable[[Any], Any] = lambda key: key) -> list[Call]:
        statements = capture(store, lambda: call_for(probe))
        expected = [value_of(probe)]
        assert statements and all(params == expected for _, params, _ in statements), \
            f"not a look-up by one key: {statements}"

        def base(key: Any) -> Call:
            value = [value_of(key)]
            return lambda: [backend.run_on(connection, sql, value, again)
                            for sql, _, again in statements]

        return [base(key) for key in keys]

    return replays


# -- parameters drawn from the data ----------------------------------------------------


class Draws:
    """Deterministic query parameters taken from the seeded rows."""

    def __init__(self, store: Store, seed: int = 7, rounds: int = 300):
        self.rng = random.Random(seed)
        rows = store.db.execute_sql(
            "SELECT id, title, budget_minor, currency FROM jobs WHERE status = 'OPEN' AND "
            "deleted_at IS NULL ORDER BY id").fetchall()
        self.jobs = self.rng.sample(rows, min(DRAWS, len(rows)))
        self.skills: dict[int, list[str]] = {}
        for job_id, *_ in self.jobs:
            self.skills[job_id] = [r[0] for r in store.db.execute_sql(
                f"SELECT skill FROM job_skills WHERE job_id = {int(job_id)} ORDER BY skill"
            ).fetchall()]
        # Uniform over the whole table, each id once (see COLD_WARMUP).
        ids = 2 * (rounds + COLD_WARMUP)
        users = store.db.execute_sql("SELECT id FROM users WHERE deleted_at IS NULL ORDER BY id"
                                     ).fetchall()
        self.users = [r[0] for r in self.rng.sample(users, min(ids, len(users)))]
        kyc = store.db.execute_sql("SELECT user_id FROM kyc_verifications ORDER BY user_id"
                                   ).fetchall()
        self.kyc_users = [r[0] for r in self.rng.sample(kyc, min(ids, len(kyc)))]
        # Keys outside the draws, on which cold_replays captures the SQL.
        self.spare_user = next((r[0] for r in users if r[0] not in set(self.users)),
                               self.users[0] if self.users else 0)
        self.spare_kyc_user = next((r[0] for r in kyc if r[0] not in set(self.kyc_users)),
                                   self.kyc_users[0] if self.kyc_users else 0)

    def search(self, case: str) -> list[dict[str, Any]]:
        params = []
        for job_id, title, budget, currency in self.jobs:
            skills = self.skills[job_id]
            words = [w for w in title.split() if len(w) > 3] or title.split()
            p: dict[str, Any] = {}
            if "skill" in case and skills:
                p["skills"] = self.rng.sample(skills, min(2 if "2" in case else 1, len(skills)))
            if "text" in case:
                p["text"] = self.rng.choice(words)
            if "budget" in case:
                p["min_budget"] = str(budget // 200)  # half the budget, in major units
                p["max_budget"] = str(budget * 3 // 200)
            if "currency" in case:
                p["currency"] = currency
            params.append(p)
        return params

    def documents(self) -> list[str]:
        return [document_number(user) for user in self.kyc_users]


@pytest.fixture(scope="session")
def draws(store: Store, request: pytest.FixtureRequest) -> Draws:
    return Draws(store, rounds=request.config.getoption("--rounds"))


# -- recording and the gate ------------------------------------------------------------

_RESULTS: list[tuple[str, str, Any, list[float]]] = []  # name, backend, benchmark, base's s
_MEASURED: list[Figures] = []  # figures measured outside pytest-benchmark (latency)


@pytest.fixture
def record_figures() -> Callable[[Figures], None]:
    """File figures measured without pytest-benchmark's timer (e.g. the outbox's
    commit-to-delivery latency, timed across processes) for the table and gate."""
    return _MEASURED.append


@pytest.fixture
def measure(benchmark: Any, request: pytest.FixtureRequest) -> Callable[..., None]:
    """Time ``calls`` (the package) in turns with ``bases`` (what each is
    compared with: the raw driver running the same SQL, or for writes the write
    without its event) in one loop, and file both under ``name``."""
    rounds = request.config.getoption("--rounds")

    def run(name: str, calls: list[Call], bases: list[Call], store: Store | None = None,
            cold: bool = False) -> None:
        store = store or request.getfixturevalue("store")
        benchmark.extra_info.update(query=name, backend=store.backend.name)
        # Every draw once (and at least 20 rounds) before timing, for both:
        # whichever ran a draw first would otherwise pay its cold page reads
        # (at medium scale that was 4x on user_stats). ``cold``: the draws are
        # distinct ids, twice the rounds (see COLD_WARMUP), and neither side
        # ever meets an id twice, so both pay the cold reads fairly.
        warmup = COLD_WARMUP if cold else max(len(calls), 20)
        base_seconds = in_turns(benchmark, calls, bases, rounds, warmup_rounds=warmup)
        _RESULTS.append((name, store.backend.name, benchmark, base_seconds))

    return run


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    if not _RESULTS and not _MEASURED:
        return
    scale = session.config.getoption("--scale")
    listed = [Figures.from_seconds(name, backend, bench.stats.stats.data, base_seconds)
              for name, backend, bench, base_seconds in _RESULTS
              if bench.stats and bench.stats.stats.data] + _MEASURED
    report = table(listed)
    problems = breaches(listed, scale)
    writer = session.config.get_terminal_writer()
    writer.line("")
    writer.line(f"azora_store benchmarks, scale {scale} (milliseconds):")
    writer.line(report)
    for problem in problems:
        writer.line(f"THRESHOLD BREACHED: {problem}", red=True)
    path = session.config.getoption("--bench-json")
    if path:
        Path(path).write_text(json.dumps({"scale": scale, "figures": [vars(f) for f in listed],
                                          "breaches": problems}, indent=2))
    plot_dir = session.config.getoption("--bench-plot")
    if plot_dir:
        _plot(plot_dir, scale, _RESULTS, writer)
    if problems and session.exitstatus == 0:
        session.exitstatus = 1


def _plot(plot_dir: str, scale: str, results: list[tuple[str, str, Any, list[float]]],
          writer: Any) -> None:
    """PNG distributions per query and backend, and the timings they show."""
    from azora_store.bench.plots import Timings, latency_plots

    timings = [Timings(name, backend, [t * 1000 for t in bench.stats.stats.data],
                       [t * 1000 for t in base_seconds])
               for name, backend, bench, base_seconds in results
               if bench.stats and bench.stats.stats.data]
    out = Path(plot_dir)
    out.mkdir(parents=True, exist_ok=True)
    (out / "timings.json").write_text(json.dumps(
        {"scale": scale, "timings_ms": [vars(t) for t in timings]}))
    for path in latency_plots(timings, out):
        writer.line(f"wrote {path}")
