"""The seed generator at tiny scale on both backends: the same rows on each,
every invariant of the schema kept, the search structures exact, and the
target queries giving the same answers on SQLite and Postgres."""

from __future__ import annotations

import random
import shlex
import uuid
from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any

import pytest
from click.testing import CliRunner

from azora_store import open_store
from azora_store.cli import cli
from azora_store.crypto import KEY_ENV, default_cipher, generate_key
from azora_store.doctor.user_counters import check_user_counters
from azora_store.errors import ConfigurationError
from azora_store.queries import kyc_lookup, search_jobs, user_stats
from azora_store.seed import SCALES, START, TABLES, Seeder, document_number
from azora_store.seed.common import _stamp
from azora_store.support.threads import in_background
from tests.conftest import RUN_ID, PostgresServer

KEY = generate_key()
SEED = 7

# Backend-neutral columns (no timestamps: their text form differs by backend).
SAMPLES = {
    "users": "SELECT id, email, role FROM users ORDER BY id",
    "jobs": "SELECT id, title, status, budget_minor, currency, client_id, freelancer_id "
            "FROM jobs ORDER BY id",
    "job_skills": "SELECT job_id, skill, budget_minor, currency FROM job_skills ORDER BY 1, 2",
    "applications": "SELECT id, job_id, freelancer_id, status FROM applications ORDER BY id",
    "transfers": "SELECT id, kind, from_account_id, to_account_id, amount_minor FROM transfers "
                 "ORDER BY id",
    "reviews": "SELECT id, job_id, reviewer_id, reviewee_id, rating FROM reviews ORDER BY id",
    "kyc_verifications": "SELECT user_id, status, document_masked FROM kyc_verifications "
                         "ORDER BY user_id",
    "service_sync": "SELECT id, service, entity_type, entity_id, status FROM service_sync "
                    "ORDER BY id",
}


@pytest.fixture
def seeded_key(monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv(KEY_ENV, KEY)
    default_cipher.cache_clear()
    return KEY


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory, pg_server: PostgresServer
           ) -> Iterator[dict[str, str]]:
    """Tiny datasets with the same seed on each backend (seeded once per module)."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv(KEY_ENV, KEY)
        default_cipher.cache_clear()
        name = f"azora_seed_{RUN_ID}_{uuid.uuid4().hex[:6]}"
        urls = {"sqlite": f"sqlite:///{tmp_path_factory.mktemp('seed') / 'tiny.db'}",
                "postgresql": pg_server.create(name)}
        for url in urls.values():
            with open_store(url) as store:
                store.migrate()
                Seeder(store, "tiny", SEED).run()
        default_cipher.cache_clear()
    yield urls
    pg_server.drop(name)


def _rows(store: Any, sql: str) -> list[tuple]:
    return [tuple(bytes(v) if isinstance(v, memoryview) else v for v in row)
            for row in store.db.execute_sql(sql).fetchall()]


def test_same_seed_same_rows_on_both_backends(seeded) -> None:
    dumps = {}
    for backend, url in seeded.items():
        with open_store(url) as store:
            dumps[backend] = {table: _rows(store, sql) for table, sql in SAMPLES.items()}
    for table in SAMPLES:
        assert dumps["sqlite"][table] == dumps["postgresql"][table], table
    sizes = SCALES["tiny"]
    assert len(dumps["sqlite"]["users"]) == sizes.users
    assert len(dumps["sqlite"]["jobs"]) == sizes.jobs
    assert len(dumps["sqlite"]["service_sync"]) == sizes.outbox


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_seeded_data_keeps_every_invariant(seeded, seeded_key, backend) -> None:
    with open_store(seeded[backend]) as store:
        check = store.market.check_ledger()
        assert (check.unbalanced, check.negative, check.escrow_mismatches) == ([], [], [])
        counters = check_user_counters(store, sample=None)  # filled after the bulk load
        active = _rows(store, "SELECT COUNT(*) FROM users WHERE deleted_at IS NULL")[0][0]
        assert counters.ok and counters.checked == active > 0, counters.drifts[:3]
        counted = store.sync.counted()
        status = store.sync.status()
        for (service, state), count in counted.items():
            assert status.services[service][state] == count
        completed = status.counts["COMPLETED"] / sum(status.counts.values())
        assert 0.95 <= completed <= 0.99
        skills_per_job = _rows(store, "SELECT COUNT(*) * 1.0 / COUNT(DISTINCT job_id) "
                                      "FROM job_skills")[0][0]
        assert 2.5 <= float(skills_per_job) <= 3.5
        # The postings' copies of their job's search fields are exact.
        assert _rows(store, "SELECT COUNT(*) FROM job_skills AS s JOIN jobs AS j ON "
                            "j.id = s.job_id WHERE (s.open_created_at IS NOT NULL) <> "
                            "(j.status = 'OPEN' AND j.deleted_at IS NULL) OR "
                            "s.budget_minor <> j.budget_minor OR s.job_created_at <> "
                            "j.created_at OR s.job_status IS DISTINCT FROM (CASE WHEN "
                            "j.status <> 'OPEN' AND j.deleted_at IS NULL THEN j.status END)"
                            )[0][0] == 0


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_every_open_job_is_found_by_its_title_and_skill(seeded, backend) -> None:
    with open_store(seeded[backend]) as store:
        open_jobs = _rows(store, "SELECT id, title FROM jobs WHERE status = 'OPEN' AND "
                                 "deleted_at IS NULL ORDER BY id")
        for job_id, title in random.Random(1).sample(open_jobs, 25):
            skill = _rows(store, f"SELECT MIN(skill) FROM job_skills WHERE job_id = {job_id}")
            found, cursor = [], None
            while True:
                page = search_jobs(store, text=title, skills=[skill[0][0]], limit=100,
                                   cursor=cursor)
                found += [hit.id for hit in page.items]
                if not (cursor := page.next_cursor):
                    break
            assert job_id in found, title


def _draws(store: Any) -> list[dict[str, Any]]:
    rng = random.Random(3)
    jobs = _rows(store, "SELECT id, title, budget_minor, currency FROM jobs WHERE status = "
                        "'OPEN' ORDER BY id")
    queries: list[dict[str, Any]] = [{}, {"limit": 7}, {"status": "COMPLETED"}]
    for job_id, title, budget, currency in rng.sample(jobs, 40):
        skills = [r[0] for r in _rows(store, f"SELECT skill FROM job_skills WHERE job_id = "
                                             f"{job_id} ORDER BY skill")]
        word = rng.choice(title.split())
        queries += [{"skills": skills[:1]}, {"skills": skills[:2], "limit": 5},
                    {"text": word}, {"text": word, "skills": skills[:1], "limit": 5},
                    {"min_budget": str(budget // 200), "max_budget": str(budget // 100),
                     "currency": currency}]
    return queries


def test_queries_answer_the_same_on_both_backends(seeded, seeded_key) -> None:
    answers: dict[str, list[Any]] = {}
    for backend, url in seeded.items():
        with open_store(url) as store:
            queries = _draws(store)
            got = []
            for query in queries:
                first = search_jobs(store, **query)
                second = (search_jobs(store, cursor=first.next_cursor, **query).to_json()
                          if first.next_cursor else None)
                got.append((first.to_json(), second))
            users = [r[0] for r in _rows(store, "SELECT id FROM users ORDER BY id")][::37]
            got += [user_stats(store, user).to_json() for user in users]
            holders = [r[0] for r in _rows(store, "SELECT user_id FROM kyc_verifications "
                                                  "ORDER BY user_id")][::41]
            got += [kyc_lookup(store, document_number=document_number(user)).to_json()
                    for user in holders]
            answers[backend] = got
    assert answers["sqlite"] == answers["postgresql"]


def test_seed_refuses_a_database_with_users(seeded, seeded_key) -> None:
    with open_store(seeded["sqlite"]) as store, pytest.raises(ConfigurationError,
                                                              match="already has users"):
        Seeder(store, "tiny").run()


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_seed_refusal_names_the_database_to_reset(seeded, seeded_key, backend) -> None:
    """The hint is a command to copy: it must wipe this database, not the default one."""
    url = seeded[backend]
    with open_store(url) as store, pytest.raises(ConfigurationError) as raised:
        Seeder(store, "tiny").run()
    db = shlex.quote(url)
    assert (f"azora-store migrate down --all --yes --db {db} && azora-store init --db {db}"
            in str(raised.value))


def test_progress_rates_count_from_each_tables_own_start(monkeypatch, capsys) -> None:
    """The outbox loads beside the other tables and their reports interleave: a
    table's rate is its rows over the time since its own first report."""
    from azora_store.seed import command as seed_command

    now = [0.0]
    monkeypatch.setattr(seed_command, "time", SimpleNamespace(perf_counter=lambda: now[0]))
    progress = seed_command.Progress()  # no terminal here: one line per table, when done

    def at(seconds: float, table: str, done: int, total: int) -> None:
        now[0] = seconds
        progress(table, done, total)

    at(0.0, "service_sync", 0, 200_000)
    at(0.0, "users", 0, 20_000)
    at(1.0, "service_sync", 100_000, 200_000)
    at(1.0, "users", 10_000, 20_000)
    at(2.0, "service_sync", 200_000, 200_000)
    at(2.000001, "users", 20_000, 20_000)  # right after the outbox's report
    progress.finish()
    rates = {line.split()[0]: line.partition("(100%)")[2].strip()
             for line in capsys.readouterr().err.splitlines()}
    assert rates == {"service_sync": "100,000 rows/s", "users": "10,000 rows/s"}


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_applications_follow_the_hiring(seeded, backend) -> None:
    """Each freelancer applies once per job, never to their own job, and a hired
    job's freelancer holds its one accepted application."""
    with open_store(seeded[backend]) as store:
        assert _rows(store, "SELECT COUNT(*) FROM (SELECT job_id, freelancer_id FROM "
                            "applications GROUP BY 1, 2 HAVING COUNT(*) > 1) AS twice")[0][0] == 0
        assert _rows(store, "SELECT COUNT(*) FROM applications AS a JOIN jobs AS j ON "
                            "j.id = a.job_id WHERE a.freelancer_id = j.client_id")[0][0] == 0
        accepted = _rows(store, "SELECT a.job_id, a.freelancer_id FROM applications AS a "
                                "WHERE a.status = 'ACCEPTED' ORDER BY 1")
        hired = _rows(store, "SELECT id, freelancer_id FROM jobs WHERE freelancer_id IS NOT "
                             "NULL ORDER BY 1")
        assert accepted == hired and len(hired) > SCALES["tiny"].jobs // 2
        per_job = _rows(store, "SELECT COUNT(*) * 1.0 / COUNT(DISTINCT job_id) "
                               "FROM applications")[0][0]
        assert 2.5 <= float(per_job) <= 3.5


def test_seed_refuses_a_database_with_outbox_events(tmp_path, seeded_key) -> None:
    """What a seed that failed halfway leaves (SQLite writes the outbox first)."""
    with open_store(f"sqlite:///{tmp_path / 'half.db'}") as store:
        store.migrate()
        store.sync.enqueue("search", "Job", 1, "CREATE", {"id": 1})
        with pytest.raises(ConfigurationError, match="users or outbox events"):
            Seeder(store, "tiny").run()
        assert _rows(store, "SELECT COUNT(*) FROM users")[0][0] == 0


def test_seed_command_reports_each_table(tmp_path, seeded_key) -> None:
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    result = CliRunner().invoke(cli, ["seed", "--scale", "tiny", "--db", url])
    assert result.exit_code == 0, result.output
    assert "service_sync" in result.output and "total" in result.output
    progress = [line.split()[0] for line in result.stderr.splitlines() if "rows/s" in line]
    # One line each; SQLite loads the outbox first (the other rows are built meanwhile).
    assert progress == ["service_sync", *TABLES[:-2]]
    assert all("(100%)" in line for line in result.stderr.splitlines() if "rows/s" in line)
    again = CliRunner().invoke(cli, ["seed", "--scale", "tiny", "--db", url])
    assert again.exit_code == 2 and "already has users" in again.output


def test_seed_without_a_field_key_loads_nothing(tmp_path, monkeypatch) -> None:
    monkeypatch.delenv(KEY_ENV)
    default_cipher.cache_clear()
    with open_store(f"sqlite:///{tmp_path / 'nokey.db'}") as store:
        store.migrate()
        with pytest.raises(ConfigurationError):
            Seeder(store, "tiny").run()
        assert _rows(store, "SELECT COUNT(*) FROM users")[0][0] == 0


def test_timestamps_are_written_as_peewee_writes_them() -> None:
    """The vectorised formatter agrees with datetime's own text at day and
    second boundaries, across months and years, to the microsecond."""
    from datetime import timedelta

    import numpy as np

    draw = random.Random(3)
    seconds = [0.0, 0.000001, 59.999999, 86_399.999999, 86_400.0, 5_184_000.5,
               31_535_999.25, 63_072_000.0] + [draw.uniform(0, 6.3e7) for _ in range(200)]
    expected = [(START + timedelta(microseconds=int(s * 1e6))).strftime("%Y-%m-%d %H:%M:%S.%f")
                for s in seconds]
    assert _stamp(np, np.array(seconds)) == expected
    assert _stamp(np, np.array([])) == []


def test_a_background_load_hands_its_failure_to_the_waiter() -> None:
    """Postgres loads the outbox on a thread: what it raises must reach the
    seed (not die with the thread), after the thread's cleanup ran."""
    cleaned = []

    def load() -> None:
        raise ConfigurationError("the outbox load failed")

    wait = in_background(load, then=lambda: cleaned.append(True))
    with pytest.raises(ConfigurationError, match="the outbox load failed"):
        wait()
    assert cleaned == [True]


def test_sqlite_bulk_load_restores_the_journal_and_sync_modes(tmp_path) -> None:
    """The load writes without WAL (appended pages need no journal) and leaves
    the file as it found it, including a synchronous level set in the URL."""
    with open_store(f"sqlite:///{tmp_path / 'bulk.db'}?synchronous=normal") as store:
        store.migrate()

        def pragma(name: str) -> Any:
            return _rows(store, f"PRAGMA {name}")[0][0]

        before = pragma("journal_mode"), pragma("synchronous")
        with store.backend.bulk_load(("users",)):
            assert (pragma("journal_mode"), pragma("synchronous")) == ("delete", 0)
        assert (pragma("journal_mode"), pragma("synchronous")) == before == ("wal", 1)


def _indexes_and_triggers(store: Any) -> tuple[list[str], dict[str, Any]]:
    """The indexes by name (Postgres may print a restored partial index's
    condition differently) and the triggers with their definitions."""
    schema = store.backend.schema_snapshot()
    return sorted(schema["indexes"]), schema["triggers"]


def test_a_failed_rebuild_beside_the_indexes_leaves_them_all_and_the_session(store) -> None:
    """The search rebuild runs once the rows are in, beside the index rebuild
    (Postgres) or after it (SQLite): when it fails, every index still comes
    back, the connection's load settings are undone and its error is raised."""
    schema = _indexes_and_triggers(store)
    sqlite = store.backend.name == "sqlite"
    settings = (("PRAGMA journal_mode", "PRAGMA synchronous") if sqlite else
                ("SHOW synchronous_commit", "SHOW session_replication_role"))
    before = [_rows(store, sql)[0][0] for sql in settings]

    def fail() -> None:
        raise RuntimeError("rebuild failed")

    with pytest.raises(RuntimeError, match="rebuild failed"), store.backend.bulk_load(
            ("jobs", "job_skills"), alongside=fail, alongside_tables=("jobs",)):
        pass
    assert _indexes_and_triggers(store) == schema
    assert [_rows(store, sql)[0][0] for sql in settings] == before
    assert before == (["wal", before[1]] if sqlite else ["on", "origin"])


def test_a_failed_load_runs_no_rebuild_and_raises_its_own_error(store) -> None:
    ran: list[bool] = []
    with pytest.raises(KeyError), store.backend.bulk_load(
            ("jobs",), alongside=lambda: ran.append(True), alongside_tables=("jobs",)):
        raise KeyError("the load failed")
    assert ran == []


def test_a_seed_that_fails_halfway_raises_its_error_and_restores_the_indexes(
        store, seeded_key, monkeypatch) -> None:
    """A table that fails to build stops the outbox's load early (SQLite builds
    beside it, Postgres loads it beside the tables) and its error is the one
    raised; the indexes and triggers come back."""
    schema = _indexes_and_triggers(store)

    def broken(self: Seeder) -> None:
        raise RuntimeError("no AML rows today")

    monkeypatch.setattr(Seeder, "_aml", broken)
    with pytest.raises(RuntimeError, match="no AML rows today"):
        Seeder(store, "tiny", SEED).run()
    assert _indexes_and_triggers(store) == schema
