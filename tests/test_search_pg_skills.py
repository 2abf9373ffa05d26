"""Text search with skills inside the full-text index (migration 0011): the same
rows, order and pages on both backends, however the index is driven (one
statement, or windows of ids on Postgres), and the triggers that keep each
job's skills in the index."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

import pytest

from azora_store.models import Job, JobSkill, JobStatus, User
from azora_store.queries import search_jobs
from azora_store.search import planner
from azora_store.search import text as text_plans
from tests.helpers import sql

T0 = datetime(2026, 1, 1, 12, 0, 0)


@dataclass(frozen=True)
class Spec:
    id: int
    title: str
    description: str = ""
    skills: tuple[str, ...] = ()
    budget: str = "100.00"
    currency: str = "USD"
    status: str = "OPEN"
    deleted: bool = False


# Ids spread over several 4,096-id units, so that on Postgres the windows (the
# newest two units, the next six, the rest) all hold some of them.
SPECS = [
    Spec(1, "Pipeline repair", "", ("python", "sql")),
    Spec(2, "Web shop", "a pipeline for orders", ("python",), "250.00"),
    Spec(3, "Pipeline audit", "", ("data analysis", "o'reilly"), currency="EUR"),
    Spec(4100, "Shop pipeline", "", ("python", "c\\d"), "80.00"),
    Spec(4101, "Logo design", "pipeline diagrams", ("figma",)),
    Spec(8200, "Pipeline tuning", "", ("python", "sql"), "400.00", "EUR"),
    Spec(9000, "Pipeline closed", "", ("python",), status="CANCELLED"),
    Spec(12500, "Mobile app", "build the pipeline", ("python", "sql")),
    Spec(20000, "Pipeline gone", "", ("python",), deleted=True),
    Spec(20001, "Data pipeline", "", ("python", "data analysis")),
    Spec(33000, "Pipeline migration", "pipeline", ("sql",), "120.00"),
    Spec(40000, "Landing page", "pipeline of leads", ("python", "sql"), currency="EUR"),
    Spec(40001, "Pipeline expert", "", ("python", "sql", "o'reilly"), "90.00"),
]

QUERIES = [
    {"text": "pipeline"},
    {"text": "pipeline", "skills": ["python"]},
    {"text": "pipeline", "skills": ["python", "sql"]},
    {"text": "pipeline", "skills": ["sql"], "currency": "EUR"},
    {"text": "pipeline", "currency": "usd", "min_budget": "85", "max_budget": "300"},
    {"text": "pipeline", "skills": ["Data  Analysis"]},
    {"text": "pipeline", "skills": ["o'reilly"]},
    {"text": "pipeline", "skills": ["c\\d"]},
    {"text": "pipeline", "skills": ["python", "cobol"]},
    {"text": "shop"},
    {"text": "pipeline -audit", "skills": ["sql"]},
]


def expected(query: dict) -> list[int]:
    """The oracle: title matches (tier 0), then description-only matches, each
    newest first, among OPEN undeleted jobs with every skill and the filters."""
    words = query["text"].split()
    wanted = [w for w in words if not w.startswith("-")]
    banned = [w[1:] for w in words if w.startswith("-")]
    skills = {" ".join(s.split()).lower() for s in query.get("skills", ())}
    low = Decimal(query.get("min_budget", "0"))
    high = Decimal(query.get("max_budget", "1e12"))

    def has(text: str, word: str) -> bool:
        return word in text.lower().split()

    tiers: list[list[int]] = [[], []]
    for spec in SPECS:
        if spec.status != "OPEN" or spec.deleted or not skills <= set(spec.skills):
            continue
        if "currency" in query and spec.currency != query["currency"].upper():
            continue
        if not low <= Decimal(spec.budget) <= high:
            continue
        text = f"{spec.title} {spec.description}"
        if not all(has(text, w) for w in wanted) or any(has(text, w) for w in banned):
            continue
        tiers[0 if all(has(spec.title, w) for w in wanted) else 1].append(spec.id)
    return sorted(tiers[0], reverse=True) + sorted(tiers[1], reverse=True)


def every_page(store, **query) -> list[int]:
    found, cursor, seen = [], None, 0
    while True:
        page = search_jobs(store, cursor=cursor, **query)
        found += [hit.id for hit in page.items]
        cursor, seen = page.next_cursor, seen + 1
        if cursor is None or seen > 50:
            return found


def fresh_stats(store) -> None:
    store.queries._stats_at = 0.0  # the skill counts are cached for minutes


@pytest.fixture
def client(store) -> User:
    with store.atomic():
        return User.create(email="client@example.org", full_name="Cleo")


@pytest.fixture
def board(store, client) -> dict[int, Job]:
    jobs = {}
    with store.atomic():
        for n, spec in enumerate(SPECS):
            job = Job.create(id=spec.id, client=client, title=spec.title,
                             description=spec.description, budget=Decimal(spec.budget),
                             currency=spec.currency, created_at=T0 + timedelta(minutes=n))
            if spec.skills:
                JobSkill.insert_many([{"job": job.id, "skill": s} for s in spec.skills]).execute()
            if spec.status != "OPEN":
                Job.update(status=spec.status).where(Job.id == job.id).execute()
            if spec.deleted:
                Job.update(deleted_at=T0).where(Job.id == job.id).execute()
            jobs[spec.id] = job
    return jobs


@pytest.mark.parametrize("facets", [1.0, 0.0], ids=["narrowed", "rows"])
@pytest.mark.parametrize("skip", [text_plans.TEXT_WINDOW_SKIP, 0], ids=["bounded", "windows"])
@pytest.mark.parametrize("query", QUERIES, ids=lambda q: repr(q)[:60])
def test_text_and_skills_match_the_oracle_on_every_page_size(store, board, monkeypatch,
                                                            query, skip, facets) -> None:
    # skip=0: Postgres walks the windows of ids even for these rare skills.
    # facets=1.0: currency and budget always narrow inside the index; 0.0: never.
    monkeypatch.setattr(text_plans, "TEXT_WINDOW_SKIP", skip)
    monkeypatch.setattr(text_plans, "TEXT_TERMS_SKIP", skip and text_plans.TEXT_TERMS_SKIP)
    monkeypatch.setattr(store.backend.fulltext, "facet_share", facets)
    want = expected(query)
    for limit in (1, 2, 3, 5, 100):
        assert every_page(store, limit=limit, **query) == want, limit


def test_the_oracle_is_not_trivial() -> None:
    assert expected(QUERIES[0])[:4] == [40001, 33000, 20001, 8200]
    assert expected(QUERIES[2]) == [40001, 8200, 1, 40000, 12500]
    assert expected(QUERIES[5]) == [20001, 3]


def test_pages_are_consistent_with_one_big_page(store, board) -> None:
    for query in QUERIES:
        whole = [hit.id for hit in search_jobs(store, limit=100, **query).items]
        assert every_page(store, limit=2, **query) == whole


def test_hits_carry_their_skills(store, board) -> None:
    hit = search_jobs(store, text="pipeline", skills=["o'reilly"]).items[0]
    assert (hit.id, hit.skills, hit.currency) == (40001, ("o'reilly", "python", "sql"), "USD")


def test_stop_words_with_a_skill_match_only_real_text(store, board) -> None:
    # Postgres drops "the" (an empty text query matches nothing, never "all jobs
    # with the skill"); SQLite's FTS5 keeps it as a word.
    ids = every_page(store, text="the", skills=["python"])
    assert set(ids) <= {12500}


def test_skill_changes_reach_the_index(store, board, client) -> None:
    def found(**query) -> list[int]:
        fresh_stats(store)
        return every_page(store, text="pipeline", **query)

    assert found(skills=["rust"]) == []
    with store.atomic():
        JobSkill.create(job=33000, skill="rust")  # one row
        JobSkill.insert_many([{"job": 2, "skill": "rust"}, {"job": 1, "skill": "rust"}]).execute()
    assert found(skills=["rust"]) == [33000, 1, 2]
    JobSkill.delete().where((JobSkill.job == 1) & (JobSkill.skill == "rust")).execute()
    assert found(skills=["rust"]) == [33000, 2]
    sql(store, "UPDATE job_skills SET skill = 'go' WHERE job_id = ? AND skill = 'rust'", 33000)
    assert found(skills=["rust"]) == [2]
    assert found(skills=["go"]) == [33000]
    # a job posted with its skills in one transaction
    with store.atomic():
        job = Job.create(id=40002, client=client, title="Pipeline fresh", description="",
                         budget=Decimal("10.00"), currency="USD")
        JobSkill.insert_many([{"job": job.id, "skill": "go"}]).execute()
    assert found(skills=["go"]) == [40002, 33000]


def test_status_and_deletion_reach_the_index(store, board) -> None:
    def found() -> list[int]:
        fresh_stats(store)
        return every_page(store, text="pipeline", skills=["python", "sql"])

    assert found() == [40001, 8200, 1, 40000, 12500]
    Job.update(status=JobStatus.CANCELLED).where(Job.id == 8200).execute()
    assert found() == [40001, 1, 40000, 12500]
    Job.update(status=JobStatus.OPEN).where(Job.id == 8200).execute()  # reopened, skills kept
    assert found() == [40001, 8200, 1, 40000, 12500]
    Job.update(deleted_at=T0).where(Job.id == 40001).execute()
    assert found() == [8200, 1, 40000, 12500]
    Job.update(title="Landing pipeline").where(Job.id == 40000).execute()  # now a title match
    assert found() == [40000, 8200, 1, 12500]
    Job.update(currency="EUR").where(Job.id == 1).execute()
    fresh_stats(store)
    assert every_page(store, text="pipeline", skills=["sql"], currency="EUR") == [40000, 8200, 1]


def test_skill_changes_do_not_count_as_edits_of_the_job(store, board) -> None:
    before = sql(store, "SELECT updated_at FROM jobs WHERE id = ?", 33000)[0][0]
    JobSkill.create(job=33000, skill="rust")
    JobSkill.delete().where(JobSkill.job == 33000).execute()
    assert sql(store, "SELECT updated_at FROM jobs WHERE id = ?", 33000)[0][0] == before
    Job.update(title="Pipeline migrations").where(Job.id == 33000).execute()
    assert sql(store, "SELECT updated_at FROM jobs WHERE id = ?", 33000)[0][0] != before


def test_a_tampered_cursor_is_refused(store, board) -> None:
    from azora_store.errors import ValidationError

    first = search_jobs(store, text="pipeline", limit=1)
    fingerprint = planner.SearchRequest.build("pipeline", (), "OPEN", None, None, None,
                                              1).fingerprint
    codec = store.queries.cursors
    assert first.next_cursor == codec.encode(fingerprint, [0, 40001])
    with pytest.raises(ValidationError):  # signed, but not a key a text search makes
        search_jobs(store, text="pipeline", limit=1, cursor=codec.encode(fingerprint,
                                                                         [0, "x"]))


def test_postgres_windows_bound_each_statement(store, board, monkeypatch) -> None:
    """On Postgres a dense query stops at the newest window, others take windows
    sized by the matches seen, a sparse one ends with the rest of the ids; with
    rare skills it is one statement for both tiers. SQLite runs one statement
    per tier."""
    from azora_store.search.plans import capture

    def statements(**query) -> int:
        search_jobs(store, **query)  # warm the plan numbers
        return sum(1 for sql_, _, _ in capture(store, lambda: search_jobs(store, **query))
                   if "title_vector" in sql_ or "jobs_fts" in sql_)

    if store.backend.name == "sqlite":
        assert statements(text="pipeline", limit=1) == 1
        return
    assert statements(text="pipeline", limit=1) == 1  # the newest window has enough
    # per tier: the newest window, then one sized by its matches reaches id 0
    assert statements(text="pipeline", limit=20) == 2 + 2
    # per tier: nothing in the newest window nor in the next six units: the rest
    assert statements(text="shop", limit=20) == 3 + 3
    assert statements(text="pipeline", skills=["sql"], limit=20) == 1  # "sql" is rare
    monkeypatch.setattr(text_plans, "TEXT_WINDOW_SKIP", 0)
    monkeypatch.setattr(text_plans, "TEXT_TERMS_SKIP", 0)  # nor by the terms' shares
    assert statements(text="pipeline", skills=["sql"], limit=20) == 2 + 2


def test_budget_and_currency_changes_reach_the_index(store, board, monkeypatch) -> None:
    """The index holds each open job's currency and budget bucket (migration
    0012): a change of either moves the job between the narrowed searches."""
    monkeypatch.setattr(store.backend.fulltext, "facet_share", 1.0)  # always narrow
    def found(**query) -> list[int]:
        fresh_stats(store)
        return every_page(store, text="pipeline", skills=["python"], **query)

    narrow = {"min_budget": "350", "max_budget": "450"}  # bucket 5_3 .. 5_4 only
    assert found(**narrow) == [8200]
    Job.update(budget=Decimal("390.00")).where(Job.id == 4100).execute()  # was 80.00
    assert found(**narrow) == [8200, 4100]
    Job.update(budget=Decimal("1000.00")).where(Job.id == 8200).execute()  # was 400.00
    assert found(**narrow) == [4100]
    assert found(currency="EUR") == [8200, 40000]
    Job.update(currency="GBP").where(Job.id == 8200).execute()
    assert found(currency="EUR") == [40000]
    assert found(currency="GBP", min_budget="999", max_budget="1001") == [8200]
    assert found(currency="GBP", min_budget="350", max_budget="450") == []
    assert found(min_budget="999", max_budget="1001") == [8200]


def _narrowed_by(store, **query) -> str:
    """The parameters of the statements a text search ran, as one string."""
    from azora_store.search.plans import capture

    fresh_stats(store)
    statements = capture(store, lambda: search_jobs(store, text="pipeline", **query))
    return " ".join(str(params) for _, params, _ in statements)


def test_only_selective_facets_narrow_the_index(store, board, monkeypatch) -> None:
    """Where the index is walked in windows (Postgres) or by its own order
    (SQLite), a facet many jobs share costs more to read than to check."""
    monkeypatch.setattr(text_plans, "TEXT_WINDOW_SKIP", 0)  # Postgres: windows, even here
    monkeypatch.setattr(text_plans, "TEXT_TERMS_SKIP", 0)  # nor by the terms' shares

    def narrowed(**query) -> bool:
        marks = ("cu_", "bu_", "cb_", "currency ", "budget ")
        return any(mark in _narrowed_by(store, **query) for mark in marks)

    assert not narrowed(currency="USD")  # 9 of the 11 open jobs
    assert not narrowed(currency="EUR", min_budget="50", max_budget="500")  # 3 of 11
    # 1 of 11 has both; only SQLite's index holds budget buckets (Postgres
    # narrows by a currency alone, and EUR is 3 of 11)
    assert narrowed(currency="EUR", min_budget="300", max_budget="450") == (
        store.backend.fulltext.narrows_budget)


def test_one_unwindowed_scan_narrows_by_every_facet(store, board) -> None:
    """Postgres's one scan of both tiers (few matches expected) ORs the
    currency's budget pairs (migration 0014) even for a currency most jobs
    have: every row the index passes costs a heap visit. SQLite has no such
    scan, and keeps to the selective facets."""
    budget = {"min_budget": "85", "max_budget": "300"}  # buckets 4_8 .. 5_3
    params = _narrowed_by(store, currency="USD", **budget)
    assert ("'budget USD 4_8' | 'budget USD 4_9' | 'budget USD 5_1'" in params) == (
        store.backend.name == "postgresql")
    assert "cb_usd" not in params and "cu_usd" not in params
    assert every_page(store, limit=2, text="pipeline", currency="USD", **budget) == expected(
        {"text": "pipeline", "currency": "USD", **budget})


def test_budget_changes_move_a_job_between_budget_pairs(store, board) -> None:
    """The pairs of currency and budget bucket follow a job's budget (the
    vectors are recomputed when it changes)."""
    def found(low: str, high: str) -> list[int]:
        return every_page(store, text="pipeline", currency="USD", min_budget=low,
                          max_budget=high)

    assert found("350", "450") == []
    Job.update(budget=Decimal("390.00")).where(Job.id == 4100).execute()  # was 80.00
    assert found("350", "450") == [4100]
    assert 4100 not in found("70", "90")
    Job.update(budget=Decimal("85.00")).where(Job.id == 4100).execute()
    assert found("350", "450") == [] and 4100 in found("70", "90")


def test_text_search_refuses_an_older_schema(store, board) -> None:
    from azora_store.errors import SchemaOutOfDate
    from azora_store.queries import Queries

    store.migrations.down(to="0011_search_skills")  # 0012 undone
    try:
        with pytest.raises(SchemaOutOfDate, match="migrate up"):
            Queries(store).search_jobs(text="pipeline")
    finally:
        store.migrations.up()
    assert Queries(store).search_jobs(text="pipeline").items


LISTINGS = [
    {"skills": ["python", "sql"]},
    {"skills": ["sql", "python"], "currency": "EUR"},
    {"skills": ["python", "data analysis"], "min_budget": "50", "max_budget": "300"},
    {"skills": ["python", "sql", "o'reilly"]},
    {"skills": ["python", "cobol"]},
]


@pytest.mark.parametrize("query", LISTINGS)
def test_skill_listings_agree_whichever_plan_reads_them(store, board, monkeypatch,
                                                        query) -> None:
    """Two skills or more without text: Postgres may sort the text index's
    intersection of them or walk the rarest one's postings (by expected cost);
    both give the oracle's jobs, newest first, on every page size."""
    skills = set(query["skills"])
    low = Decimal(query.get("min_budget", "0"))
    high = Decimal(query.get("max_budget", "1e12"))
    oracle = [spec.id for spec in reversed(SPECS)  # created one minute apart, in order
              if spec.status == "OPEN" and not spec.deleted and skills <= set(spec.skills)
              and spec.currency == query.get("currency", spec.currency)
              and low <= Decimal(spec.budget) <= high]
    offered = store.backend.fulltext.skill_match_cost_us is not None
    for cost in (0.0, 1e9) if offered else (None,):  # the index always, then never
        monkeypatch.setattr(store.backend.fulltext, "skill_match_cost_us", cost)
        for limit in (1, 2, 5):
            assert every_page(store, limit=limit, **query) == oracle, (cost, limit)
