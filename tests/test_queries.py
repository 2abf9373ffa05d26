"""The four target queries on hand-made data: results, order, paging, the
triggers that keep the search structures exact, and bad input."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal

import pytest

from azora_store.errors import NotFound, ValidationError
from azora_store.models import Job, JobSkill, JobStatus, KYCVerification, User
from azora_store.queries import kyc_lookup, search_jobs, sync_status, user_stats
from azora_store.search.plans import capture
from tests.helpers import sql

T0 = datetime(2026, 1, 1, 12, 0, 0)


def post(client: User, title: str, skills: tuple[str, ...] = (), budget: str = "100.00",
         currency: str = "USD", minutes: int = 0, description: str = "") -> Job:
    job = Job.create(client=client, title=title, description=description,
                     budget=Decimal(budget), currency=currency,
                     created_at=T0 + timedelta(minutes=minutes))
    for skill in skills:
        JobSkill.create(job=job, skill=skill)
    return job


@pytest.fixture
def board(store):
    """Twelve open jobs a minute apart (newest last) and one of each other state."""
    with store.atomic():
        client = User.create(email="client@example.org", full_name="Cleo")
        worker = User.create(email="worker@example.org", full_name="Wes")
        jobs = {}
        for n in range(12):
            skills = ("python", *(("postgresql",) if n % 2 else ()), *(("rust",) if n == 5 else ()))
            title = f"Data pipeline {n}" if n % 3 == 0 else f"Web shop {n}"
            jobs[n] = post(client, title, skills, budget=f"{100 + 10 * n}.00", minutes=n,
                           description="needs a careful engineer" if n == 4 else "")
        jobs["taken"] = post(client, "Data pipeline taken", ("python",), minutes=30)
        Job.update(status=JobStatus.IN_PROGRESS, freelancer=worker).where(
            Job.id == jobs["taken"].id).execute()
        jobs["gone"] = post(client, "Data pipeline gone", ("python",), minutes=31)
        Job.update(deleted_at=T0).where(Job.id == jobs["gone"].id).execute()
    return client, jobs


def ids(page) -> list[int]:
    return [hit.id for hit in page.items]


def every_page(store, **query) -> list[int]:
    found, cursor = [], None
    while True:
        page = search_jobs(store, cursor=cursor, **query)
        found += ids(page)
        cursor = page.next_cursor
        if cursor is None:
            return found


def test_newest_open_jobs_first_and_paged_without_gaps(store, board) -> None:
    _, jobs = board
    newest_first = [jobs[n].id for n in range(11, -1, -1)]
    assert ids(search_jobs(store, limit=5)) == newest_first[:5]
    assert every_page(store, limit=5) == newest_first
    assert every_page(store, limit=100) == newest_first


def test_skill_filters_combine(store, board) -> None:
    _, jobs = board
    odd = [jobs[n].id for n in (11, 9, 7, 5, 3, 1)]
    assert every_page(store, skills=["PostgreSQL"], limit=4) == odd  # normalised
    assert every_page(store, skills=["python", "postgresql"], limit=2) == odd
    assert every_page(store, skills=["rust", "python"]) == [jobs[5].id]
    assert every_page(store, skills=["cobol"]) == []


def test_budget_and_currency_filters(store, board) -> None:
    _, jobs = board
    assert every_page(store, min_budget="150", max_budget=Decimal("170.00")) == [
        jobs[7].id, jobs[6].id, jobs[5].id]
    assert every_page(store, skills=["postgresql"], min_budget="150") == [
        jobs[11].id, jobs[9].id, jobs[7].id, jobs[5].id]
    assert every_page(store, currency="eur") == []
    assert every_page(store, currency="USD", limit=3) == every_page(store)


def test_text_ranks_title_matches_first_then_newest(store, board) -> None:
    _, jobs = board
    # "pipeline" is in the titles of jobs 0, 3, 6, 9; "engineer" only in job 4's
    # description; the in-progress and deleted jobs never match.
    assert every_page(store, text="pipeline", limit=2) == [jobs[n].id for n in (9, 6, 3, 0)]
    assert every_page(store, text="engineer") == [jobs[4].id]
    assert every_page(store, text="pipeline", skills=["postgresql"]) == [jobs[9].id, jobs[3].id]
    hit = search_jobs(store, text="pipelines").items[0]  # stemmed
    assert (hit.id, hit.title, hit.budget, hit.currency, hit.skills) == (
        jobs[9].id, "Data pipeline 9", Decimal("190.00"), "USD", ("postgresql", "python"))


def test_cursor_survives_inserts_and_is_tied_to_its_query(store, board) -> None:
    client, jobs = board
    first = search_jobs(store, limit=4)
    with store.atomic():
        post(client, "Brand new", ("python",), minutes=100)  # newer than every page
    second = search_jobs(store, limit=4, cursor=first.next_cursor)
    assert ids(second) == [jobs[n].id for n in (7, 6, 5, 4)]
    with pytest.raises(ValidationError) as refused:
        search_jobs(store, skills=["python"], limit=4, cursor=first.next_cursor)
    assert refused.value.field == "cursor"
    with pytest.raises(ValidationError):
        search_jobs(store, cursor="not-a-cursor")


def test_a_status_given_as_enum_or_text_is_one_query(store, board) -> None:
    """A cursor made with ``JobStatus.OPEN`` pages the same query given "OPEN"."""
    by_enum = search_jobs(store, status=JobStatus.OPEN, limit=4)
    by_text = search_jobs(store, status="OPEN", limit=4, cursor=by_enum.next_cursor)
    assert ids(by_text) == ids(search_jobs(store, status=JobStatus.OPEN, limit=4,
                                           cursor=by_enum.next_cursor))
    assert ids(by_text) and not set(ids(by_text)) & set(ids(by_enum))
    assert search_jobs(store, status="OPEN", limit=4).next_cursor == by_enum.next_cursor


@pytest.mark.parametrize("text", ['"', 'c++', 'covid-19 (', 'AND OR NOT', '*', 'NEAR(a b',
                                  "'; DROP TABLE jobs; --", '-', '""pipeline""', 'ü ñ 数据',
                                  'title:pipeline', '^pipeline'])
def test_any_typed_text_is_a_search_not_an_sql_error(store, board, text) -> None:
    page = search_jobs(store, text=text)
    assert all(hit.status == "OPEN" for hit in page.items)
    assert sql(store, "SELECT COUNT(*) FROM jobs")[0][0] == 14


def test_blank_text_means_no_text(store, board) -> None:
    assert ids(search_jobs(store, text="   ")) == ids(search_jobs(store))


@pytest.mark.parametrize(("query", "field"), [
    ({"limit": 0}, "limit"), ({"limit": 101}, "limit"), ({"limit": "5"}, "limit"),
    ({"status": ["OPEN"]}, "status"),
    ({"min_budget": "ten"}, "min_budget"), ({"min_budget": 1.5}, "min_budget"),
    ({"min_budget": "9", "max_budget": "3"}, "min_budget"),
    ({"currency": "XXX"}, "currency"), ({"status": "LOST"}, "status"),
    ({"skills": [1, 2]}, "skills"), ({"skills": ["a", "b", "c", "d", "e", "f"]}, "skills"),
    ({"text": "x" * 201}, "text"), ({"text": 5}, "text"),
    ({"text": "pipeline", "status": "COMPLETED"}, "text"),
])
def test_bad_search_input_names_the_field(store, board, query, field) -> None:
    with pytest.raises(ValidationError) as error:
        search_jobs(store, **query)
    assert error.value.field == field


def test_search_structures_follow_every_change(store, board) -> None:
    """Skills added and removed, status changes, soft delete and title edits
    reach the postings and the full-text index through triggers."""
    _, jobs = board
    job = jobs[2]
    with store.atomic():
        JobSkill.create(job=job, skill="haskell")
    assert every_page(store, skills=["haskell"]) == [job.id]
    assert every_page(store, text="shop", skills=["haskell"]) == [job.id]
    with store.atomic():
        JobSkill.delete().where(JobSkill.job == job, JobSkill.skill == "haskell").execute()
    assert every_page(store, skills=["haskell"]) == []
    assert every_page(store, text="shop", skills=["haskell"]) == []

    with store.atomic():
        Job.update(title="Mobile game").where(Job.id == job.id).execute()
    assert every_page(store, text="game") == [job.id]
    assert job.id not in every_page(store, text="shop")

    with store.atomic():
        Job.update(budget=Decimal("999.00")).where(Job.id == job.id).execute()
    assert every_page(store, skills=["python"], min_budget="900") == [job.id]

    with store.atomic():
        Job.update(status=JobStatus.CANCELLED).where(Job.id == job.id).execute()
    assert job.id not in every_page(store, skills=["python"])
    assert every_page(store, text="game") == []
    assert job.id in every_page(store, status="CANCELLED")

    with store.atomic():
        Job.update(status=JobStatus.OPEN).where(Job.id == job.id).execute()
    assert every_page(store, text="game", skills=["python"]) == [job.id]
    with store.atomic():
        Job.update(deleted_at=T0).where(Job.id == job.id).execute()
    assert every_page(store, text="game") == [] and job.id not in every_page(store)


def test_user_stats_and_missing_users(store, board) -> None:
    client, _ = board
    stats = user_stats(store, client.id)
    assert (stats.user_id, stats.jobs_posted, stats.enrollments, stats.earnings,
            stats.average_rating) == (client.id, 13, 0, {}, None)  # not the deleted one
    with pytest.raises(NotFound):
        user_stats(store, 10**9)
    with pytest.raises(ValidationError):
        user_stats(store, "1")


def test_kyc_lookup_by_user_and_by_document(store, board) -> None:
    client, _ = board
    other = User.create(email="other@example.org", full_name="Otto")
    submitted = store.compliance.submit_kyc(client.id, "PASSPORT", "AB1234567", country="ZA")
    store.compliance.submit_kyc(other.id, "NATIONAL_ID", "ab 123 4567", country="NG")
    record = kyc_lookup(store, user_id=client.id)
    assert (record.user_id, record.status, record.document_masked) == (
        client.id, "PENDING", submitted.document_masked)
    assert "1234567" not in str(record.to_json())
    found = kyc_lookup(store, document_number="AB1234567", user_id=other.id)
    assert (found.user_id, found.others_with_document) == (other.id, 1)
    with pytest.raises(NotFound):
        kyc_lookup(store, document_number="ZZ0000000")
    with pytest.raises(ValidationError):
        kyc_lookup(store)


def test_kyc_lookup_by_user_reads_the_covering_index_alone(store, board) -> None:
    """Migration 0024: the look-up by user is answered from one index (a cold
    look-up reads one leaf, not a leaf and then the row), and that index follows
    every change of the columns it carries."""
    client, _ = board
    officer = User.create(email="officer@example.org", full_name="Olu", role="ADMIN")
    submitted = store.compliance.submit_kyc(client.id, "PASSPORT", "AB1234567", country="ZA")
    store.compliance.approve_kyc(submitted.id, officer.id, risk_level="HIGH")
    row = KYCVerification.get(KYCVerification.user == client.id)
    record = kyc_lookup(store, user_id=client.id)
    assert (record.status, record.risk_level, record.document_masked, record.country) == (
        "APPROVED", "HIGH", row.document_masked, "ZA")
    assert record.expires_at is not None and record.reviewed_at is not None
    backend = store.backend
    if backend.name == "postgresql":  # the visibility map makes an index-only scan pay
        store.db.execute_sql("VACUUM ANALYZE kyc_verifications")
        store.db.execute_sql("SET enable_seqscan = off")  # a one-row table is read whole
    statements = capture(store, lambda: kyc_lookup(store, user_id=client.id))
    assert len(statements) == 1
    sql_text, params, _ = statements[0]
    plan = "\n".join(backend.explain(sql_text, params))
    assert "ix_kyc_verifications_user" in plan, plan
    assert ("COVERING INDEX" if backend.name == "sqlite" else "Index Only Scan") in plan, plan


def test_sync_status_counts_what_was_queued(store, board) -> None:
    before = sync_status(store).counts["PENDING"]
    with store.atomic():
        store.sync.enqueue("search", "Job", 1, "UPDATE", {"n": 1})
    assert sync_status(store).counts["PENDING"] == before + 1
