"""Marketplace workflows on both backends: happy paths, transition history,
outbox events, and every refusal leaving the database unchanged."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from click.testing import CliRunner

from azora_store.cli import cli
from azora_store.errors import (
    AzoraError,
    Conflict,
    Forbidden,
    InsufficientFunds,
    InvalidTransition,
    NotFound,
    ValidationError,
)
from azora_store.models import (
    TABLES,
    Application,
    ApplicationStatus,
    Escrow,
    EscrowStatus,
    Job,
    JobStatus,
    Milestone,
    MilestoneStatus,
    ServiceSync,
    StateTransition,
    User,
)
from azora_store.support.clock import utcnow
from azora_store.workflow import transitions
from azora_store.workflow.transitions import GRAPHS
from tests.factories import MarketWorld, market_world
from tests.helpers import dump, fingerprint, sql

ALL_TABLES = [model._meta.table_name for model in TABLES]


@contextmanager
def unchanged(store, tables: list[str] = ALL_TABLES):
    """Assert that nothing in ``tables`` changed inside the block."""
    before = fingerprint(store, tables)
    yield
    after = fingerprint(store, tables)
    assert after == before, [t for t in tables if after[t] != before[t]]


def refused(store, error: type[AzoraError], call: Callable[[], Any],
            field: str | None = None) -> AzoraError:
    with unchanged(store), pytest.raises(error) as raised:
        call()
    if field is not None:
        assert raised.value.field == field, raised.value
    return raised.value


def events_for(entity_type: str, entity_id: int) -> list[tuple[str, str]]:
    return [(e.service, str(e.operation)) for e in ServiceSync.select().where(
        (ServiceSync.entity_type == entity_type) & (ServiceSync.entity_id == str(entity_id))
    ).order_by(ServiceSync.id)]


def states(graph, entity_id: int) -> list[tuple[str | None, str]]:
    return [(t.from_state, t.to_state) for t in transitions.history(graph, entity_id)]


# -- the graphs ---------------------------------------------------------------------


def test_migration_graphs_match_the_code() -> None:
    """Migration 0007 keeps a frozen copy of the graphs; it must equal the code's."""
    frozen = importlib.import_module("azora_store.migrations.0007_workflow_rules").GRAPHS
    assert tuple(graph.spec() for graph in GRAPHS) == frozen


def make_row(store, graph, state: str, n: int) -> Any:
    """A fresh row of ``graph``'s table in ``state``, written directly (inserts are
    not transitions), with whatever parents it needs."""
    client = User.create(email=f"c{n}@example.org", full_name="C")
    freelancer = User.create(email=f"f{n}@example.org", full_name="F")
    job = Job.create(client=client, freelancer=freelancer, title="T", budget=Decimal("10"),
                     currency="USD", status=state if graph is transitions.JOB else "OPEN")
    if graph is transitions.JOB:
        return job
    if graph is transitions.APPLICATION:
        return Application.create(job=job, freelancer=freelancer, status=state)
    if graph is transitions.KYC:
        from azora_store.models import KYCVerification

        return KYCVerification.create(user=client, status=state, document_type="PASSPORT",
                                      document_ciphertext=b"x", document_index="i" * 64,
                                      document_masked="***", key_id="k")
    escrow = Escrow.create(job=job, client=client, freelancer=freelancer, amount=Decimal("10"),
                           currency="USD",
                           status=state if graph is transitions.ESCROW else "FROZEN")
    if graph is transitions.ESCROW:
        return escrow
    if graph is transitions.MILESTONE:
        return Milestone.create(escrow=escrow, job=job, title="M", amount=Decimal("1"),
                                status=state)
    from azora_store.models import Dispute

    return Dispute.create(job=job, escrow=escrow, opened_by=client, reason="r", status=state)


def test_database_refuses_every_illegal_status_change(store, subtests) -> None:
    """Raw SQL cannot skip the graphs: every forbidden pair raises InvalidTransition
    naming entity, from and to, and leaves the row as it was; every edge passes."""
    for graph in GRAPHS:
        with subtests.test(graph.entity):
            check_graph_in_database(store, graph)


def check_graph_in_database(store, graph) -> None:
    n = 1000 * GRAPHS.index(graph)
    for source in graph.states:
        for target in graph.states:
            if source == target:
                continue
            n += 1
            row = make_row(store, graph, source, n)
            update = f'UPDATE "{graph.table}" SET status = ? WHERE id = ?'
            if graph.allows(source, target):
                sql(store, update, target, row.id)
                continue
            before = dump(store, graph.table)
            with pytest.raises(InvalidTransition) as raised:
                sql(store, update, target, row.id)
            error = raised.value
            assert (error.entity, error.from_state, error.to_state) == (graph.entity, source,
                                                                        target)
            assert dump(store, graph.table) == before


def test_database_refuses_milestones_beyond_the_funded_amount(store) -> None:
    world = market_world(store)  # funded 300.00, milestones 100.00 + 100.00
    before = dump(store, "milestones")
    with pytest.raises(ValidationError) as raised:
        sql(store, "INSERT INTO milestones (escrow_id, job_id, title, amount_minor, status, "
            "created_at, updated_at) VALUES (?, ?, 'X', 10001, 'PENDING', ?, ?)",
            world.escrow_id, world.job.id, utcnow(), utcnow())
    assert raised.value.field == "amount"
    with pytest.raises(ValidationError):
        sql(store, "UPDATE milestones SET amount_minor = 20001 WHERE id = ?", world.pending)
    assert dump(store, "milestones") == before
    sql(store, "UPDATE milestones SET amount_minor = 20000 WHERE id = ?", world.pending)


# -- users and learning ---------------------------------------------------------------


def test_users_are_unique_case_insensitively_and_soft_deleted(store) -> None:
    m = store.market
    ann = m.create_user("  Ann@Example.ORG ", "Ann", role="instructor")
    assert (ann.email, str(ann.role)) == ("ann@example.org", "INSTRUCTOR")
    refused(store, Conflict, lambda: m.create_user("ANN@example.org", "Other"), "email")
    refused(store, ValidationError, lambda: m.create_user("not-an-email", "X"), "email")
    refused(store, ValidationError, lambda: m.create_user("x@example.org", "  "), "full_name")
    refused(store, ValidationError, lambda: m.create_user("x@example.org", "X", "KING"), "role")

    job = m.post_job(ann.id, "Teach SQL", "", "50.00", "USD")
    refused(store, Conflict, lambda: m.delete_user(ann.id), "user_id")
    m.cancel_job(job.id)
    bob = m.create_user("bob@example.org", "Bob")
    refused(store, Forbidden, lambda: m.delete_user(ann.id, actor_id=bob.id), "actor_id")
    deleted = m.delete_user(ann.id, actor_id=ann.id)
    assert deleted.deleted_at is not None
    refused(store, NotFound, lambda: m.get_user(ann.id), "user_id")
    refused(store, NotFound, lambda: m.post_job(ann.id, "T", "", "1", "USD"), "client_id")
    assert events_for("User", ann.id) == [("notifications", "CREATE"),
                                         ("notifications", "DELETE")]


def test_deleting_a_user_withdraws_their_pending_applications(store) -> None:
    m = store.market
    client = m.create_user("c@example.org", "C")
    free = m.create_user("f@example.org", "F")
    job = m.post_job(client.id, "T", "", "10.00", "USD")
    application = m.apply(job.id, free.id)
    m.deposit(free.id, "5.00", "USD", idempotency_key="k")
    refused(store, Conflict, lambda: m.delete_user(free.id), "user_id")  # money in a wallet
    m.withdraw(free.id, "5.00", "USD", idempotency_key="w")
    m.delete_user(free.id)
    assert m.get_application(application.id).status == ApplicationStatus.WITHDRAWN


def test_courses_and_enrollments(store) -> None:
    m = store.market
    teacher = m.create_user("t@example.org", "T", role="INSTRUCTOR")
    student = m.create_user("s@example.org", "S")
    refused(store, Forbidden, lambda: m.create_course(student.id, "SQL"), "instructor_id")
    course = m.create_course(teacher.id, "SQL", "joins")
    refused(store, Conflict, lambda: m.enrol(student.id, course.id), "course_id")  # a draft
    m.publish_course(course.id)
    refused(store, InvalidTransition, lambda: m.publish_course(course.id))
    enrollment = m.enrol(student.id, course.id)
    refused(store, Conflict, lambda: m.enrol(student.id, course.id), "course_id")
    refused(store, ValidationError, lambda: m.update_progress(enrollment.id, 101), "progress")
    assert m.update_progress(enrollment.id, 40).progress == 40
    done = m.complete_enrollment(enrollment.id)
    assert (str(done.status), done.progress) == ("COMPLETED", 100)
    assert done.completed_at is not None
    refused(store, InvalidTransition, lambda: m.complete_enrollment(enrollment.id))
    refused(store, InvalidTransition, lambda: m.drop_enrollment(enrollment.id))
    m.archive_course(course.id)


# -- jobs and applications ---------------------------------------------------------------


def test_post_job_writes_the_job_skills_history_and_events(store) -> None:
    m = store.market
    client = m.create_user("c@example.org", "C")
    job = m.post_job(client.id, " Build an API ", "REST", Decimal("250.50"), "usd",
                     ["Python", " python ", "Machine   Learning", "SQL"])
    assert (job.title, job.budget, str(job.currency), str(job.status)) == (
        "Build an API", Decimal("250.50"), "USD", "OPEN")
    assert m.job_skills(job.id) == ["machine learning", "python", "sql"]
    assert states(transitions.JOB, job.id) == [(None, "OPEN")]
    assert events_for("Job", job.id) == [("search", "CREATE"), ("notifications", "CREATE")]
    payload = ServiceSync.get(ServiceSync.entity_type == "Job").payload
    assert payload["budget"] == "250.50" and payload["skills"] == ["python", "machine learning",
                                                                   "sql"]


BAD_JOBS = [
    ({"budget": 12.5}, "budget"),
    ({"budget": "0"}, "budget"),
    ({"budget": "1.001"}, "budget"),
    ({"currency": "XXX"}, "currency"),
    ({"title": " "}, "title"),
    ({"title": "x" * 201}, "title"),
    ({"skills": "python"}, "skills"),
    ({"skills": [f"s{n}" for n in range(21)]}, "skills"),
    ({"skills": ["ok", ""]}, "skills"),
    ({"skills": ["x" * 65]}, "skills"),
    ({"client_id": "1"}, "client_id"),
]


def test_post_job_refuses_bad_input(store, subtests) -> None:
    client = store.market.create_user("c@example.org", "C")
    for change, field in BAD_JOBS:
        with subtests.test(field=field, change=str(change)[:40]):
            args = {"client_id": client.id, "title": "T", "description": "",
                    "budget": "10.00", "currency": "USD", "skills": ["python"], **change}
            refused(store, ValidationError, lambda a=args: store.market.post_job(**a), field)


def test_hire_accepts_one_rejects_the_rest_and_records_history(store) -> None:
    w = market_world(store)
    assert (str(w.job.status), w.job.freelancer_id) == ("IN_PROGRESS", w.freelancer.id)
    assert str(store.market.get_application(w.application.id).status) == "ACCEPTED"
    assert str(store.market.get_application(w.rival_application.id).status) == "REJECTED"
    assert states(transitions.JOB, w.job.id) == [(None, "OPEN"), ("OPEN", "IN_PROGRESS")]
    assert states(transitions.APPLICATION, w.rival_application.id) == [
        (None, "PENDING"), ("PENDING", "REJECTED")]
    history = transitions.history(transitions.APPLICATION, w.application.id)
    assert history[-1].actor_id == w.client.id and history[-1].reason == "hired"
    assert ("notifications", "UPDATE") in events_for("Application", w.rival_application.id)


def test_job_and_application_rules(store) -> None:
    m = store.market
    w = market_world(store)
    job = w.job
    refused(store, Conflict, lambda: m.edit_job(job.id, title="New"), "job_id")
    refused(store, InvalidTransition, lambda: m.hire(w.rival_application.id))
    refused(store, Conflict, lambda: m.apply(job.id, w.outsider.id), "job_id")
    refused(store, Conflict, lambda: m.complete_job(job.id), "job_id")  # escrow holds money
    refused(store, Conflict, lambda: m.cancel_job(job.id), "job_id")
    refused(store, Forbidden, lambda: m.complete_job(job.id, actor_id=w.freelancer.id),
            "actor_id")

    other = m.post_job(w.client.id, "Logo", "", "40.00", "USD", ["design"])
    refused(store, ValidationError, lambda: m.apply(other.id, w.client.id), "freelancer_id")
    application = m.apply(other.id, w.outsider.id, "hi", "35.00")
    refused(store, Conflict, lambda: m.apply(other.id, w.outsider.id), "freelancer_id")
    refused(store, ValidationError, lambda: m.apply(other.id, w.rival.id, bid=3.5), "bid")
    refused(store, NotFound, lambda: m.apply(999_999, w.rival.id), "job_id")
    refused(store, Forbidden, lambda: m.withdraw_application(application.id,
                                                             actor_id=w.rival.id))
    edited = m.edit_job(other.id, title="Logo v2", budget="45.00", skills=["Design", "SVG"],
                        actor_id=w.client.id)
    assert (edited.title, edited.budget, m.job_skills(other.id)) == (
        "Logo v2", Decimal("45.00"), ["design", "svg"])
    m.withdraw_application(application.id, actor_id=w.outsider.id)
    refused(store, InvalidTransition, lambda: m.withdraw_application(application.id))
    refused(store, InvalidTransition, lambda: m.accept_application(application.id))
    late = m.apply(other.id, w.rival.id)
    m.reject_application(late.id, actor_id=w.client.id, reason="not a fit")
    refused(store, InvalidTransition, lambda: m.complete_job(other.id))  # OPEN -> COMPLETED

    cancelled = m.cancel_job(other.id, reason="changed plans")
    assert str(cancelled.status) == "CANCELLED" and cancelled.closed_at is not None
    refused(store, InvalidTransition, lambda: m.cancel_job(other.id))
    reopened = m.reopen_job(other.id)
    assert str(reopened.status) == "OPEN" and reopened.closed_at is None
    assert states(transitions.JOB, other.id)[-2:] == [("OPEN", "CANCELLED"),
                                                      ("CANCELLED", "OPEN")]


def test_cancelling_an_open_job_rejects_pending_applications(store) -> None:
    m = store.market
    client = m.create_user("c@example.org", "C")
    free = m.create_user("f@example.org", "F")
    job = m.post_job(client.id, "T", "", "10.00", "USD")
    application = m.apply(job.id, free.id)
    m.cancel_job(job.id)
    assert str(m.get_application(application.id).status) == "REJECTED"


def test_a_hired_job_once_cancelled_is_not_reopened(store) -> None:
    m = store.market
    w = market_world(store)
    m.cancel_milestone(w.pending, actor_id=w.client.id)
    refused(store, InvalidTransition, lambda: m.cancel_milestone(w.submitted))
    m.open_dispute(w.job.id, w.client.id, "stalled")
    dispute_id = sql(store, "SELECT id FROM disputes")[0][0]
    m.resolve_dispute(dispute_id, "client", idempotency_key="r")
    job = m.cancel_job(w.job.id)
    assert str(job.status) == "CANCELLED"
    refused(store, InvalidTransition, lambda: m.reopen_job(w.job.id))


# -- escrow and milestones ------------------------------------------------------------


def test_release_moves_the_milestone_amount_and_keeps_the_rest_held(store) -> None:
    m = store.market
    w = market_world(store)
    refused(store, InvalidTransition,
            lambda: m.release_milestone(w.pending, idempotency_key="r0"))
    refused(store, Forbidden, lambda: m.release_milestone(
        w.submitted, idempotency_key="r0", actor_id=w.freelancer.id), "actor_id")
    result = m.release_milestone(w.submitted, idempotency_key="r1", actor_id=w.client.id)
    assert (result.amount, result.to_freelancer, result.status) == (
        Decimal("100.00"), Decimal("100.00"), "FUNDED")
    assert m.balance(w.freelancer.id, "USD") == Decimal("100.00")
    figures = m.escrow_figures(w.escrow_id)
    assert (figures.funded, figures.released, figures.refunded, figures.remaining,
            figures.committed) == (Decimal("300.00"), Decimal("100.00"), Decimal("0.00"),
                                   Decimal("200.00"), Decimal("100.00"))
    released = Milestone.get_by_id(w.submitted)
    assert str(released.status) == "RELEASED" and released.released_at is not None
    assert states(transitions.MILESTONE, w.submitted) == [
        (None, "PENDING"), ("PENDING", "SUBMITTED"), ("SUBMITTED", "RELEASED")]
    refused(store, InvalidTransition,
            lambda: m.release_milestone(w.submitted, idempotency_key="r2"))
    assert ("billing", "UPDATE") in events_for("Escrow", w.escrow_id)


def test_escrow_limits_refunds_and_final_status(store) -> None:
    m = store.market
    w = market_world(store)  # 300 funded, 200 committed to milestones
    refused(store, ValidationError,
            lambda: m.add_milestone(w.escrow_id, "Extra", "100.01"), "amount")
    refused(store, InsufficientFunds,
            lambda: m.refund_escrow(w.escrow_id, "100.01", idempotency_key="x"), "amount")
    refused(store, Forbidden, lambda: m.refund_escrow(
        w.escrow_id, "1.00", idempotency_key="x", actor_id=w.outsider.id), "actor_id")
    refused(store, InsufficientFunds,  # the client's wallet holds 700.00
            lambda: m.fund_escrow(w.job.id, "700.01", idempotency_key="x"), "amount")
    topped = m.fund_escrow(w.job.id, "50.00", idempotency_key="top")
    assert Escrow.get_by_id(w.escrow_id).amount == Decimal("350.00")
    assert topped.status == "FUNDED"
    refund = m.refund_escrow(w.escrow_id, idempotency_key="ref", reason="scope cut")
    assert refund.amount == Decimal("150.00")  # all that no milestone claims
    m.cancel_milestone(w.pending)
    m.release_milestone(w.submitted, idempotency_key="rel")
    last = m.refund_escrow(w.escrow_id, idempotency_key="ref2")
    assert (last.amount, last.status) == (Decimal("100.00"), "SETTLED")
    assert m.balance(w.client.id, "USD") == Decimal("900.00")
    refused(store, InvalidTransition,
            lambda: m.refund_escrow(w.escrow_id, "1.00", idempotency_key="ref3"))
    refused(store, InvalidTransition, lambda: m.fund_escrow(w.job.id, "1.00",
                                                            idempotency_key="top2"))
    assert states(transitions.ESCROW, w.escrow_id) == [(None, "FUNDED"), ("FUNDED", "SETTLED")]
    assert str(m.complete_job(w.job.id).status) == "COMPLETED"


@pytest.mark.parametrize("how, status", [("refund", "REFUNDED"), ("release", "RELEASED")])
def test_an_emptied_escrow_is_refunded_or_released(store, how: str, status: str) -> None:
    m = store.market
    client = m.create_user("c@example.org", "C")
    free = m.create_user("f@example.org", "F")
    m.deposit(client.id, "100.00", "USD", idempotency_key="d")
    job = m.post_job(client.id, "T", "", "100.00", "USD")
    m.hire(m.apply(job.id, free.id).id)
    escrow_id = m.fund_escrow(job.id, "100.00", idempotency_key="f").escrow_id
    if how == "refund":
        result = m.refund_escrow(escrow_id, idempotency_key="r", actor_id=free.id)
    else:
        milestone = m.add_milestone(escrow_id, "All", "100.00")
        m.submit_milestone(milestone.id)
        result = m.release_milestone(milestone.id, idempotency_key="r")
    assert result.status == status == m.escrow_figures(escrow_id).status
    assert m.escrow_figures(escrow_id).remaining == Decimal("0.00")


def test_funding_needs_a_hired_job(store) -> None:
    m = store.market
    client = m.create_user("c@example.org", "C")
    m.deposit(client.id, "10.00", "USD", idempotency_key="d")
    job = m.post_job(client.id, "T", "", "10.00", "USD")
    refused(store, Conflict, lambda: m.fund_escrow(job.id, "5.00", idempotency_key="f"),
            "job_id")
    refused(store, NotFound, lambda: m.escrow_for_job(job.id), "job_id")


def test_release_due_releases_overdue_milestones_and_skips_frozen_escrows(store) -> None:
    m = store.market
    w = market_world(store)
    m.submit_milestone(w.pending, auto_release_after=timedelta(days=1))
    due = Milestone.get_by_id(w.submitted).auto_release_at
    assert due - utcnow() > timedelta(days=13)  # the default: 14 days after submission
    assert m.release_due().released == []
    report = m.release_due(now=utcnow() + timedelta(days=2))
    assert [r.milestone_id for r in report.released] == [w.pending]
    assert report.total == {"USD": Decimal("100.00")}

    m.open_dispute(w.job.id, w.freelancer.id, "client unresponsive")
    assert m.release_due(now=utcnow() + timedelta(days=30)).released == []
    assert str(Milestone.get_by_id(w.submitted).status) == "SUBMITTED"


def test_release_due_command(store, db_url: str) -> None:
    w = market_world(store)
    Milestone.update(auto_release_at=utcnow() - timedelta(minutes=1)).where(
        Milestone.id == w.submitted).execute()
    result = CliRunner().invoke(cli, ["market", "release-due", "--db", db_url])
    assert result.exit_code == 0, result.output
    assert f"released milestone #{w.submitted}: 100.00 USD" in result.output
    assert "1 milestone(s) released (100.00 USD)" in result.output
    result = CliRunner().invoke(cli, ["market", "release-due", "--db", db_url])
    assert "0 milestone(s) released" in result.output


# -- disputes -------------------------------------------------------------------------


def test_a_dispute_freezes_the_escrow_until_resolved(store) -> None:
    m = store.market
    w = market_world(store)
    refused(store, Forbidden, lambda: m.open_dispute(w.job.id, w.outsider.id, "x"), "actor_id")
    refused(store, ValidationError, lambda: m.open_dispute(w.job.id, w.client.id, " "),
            "reason")
    dispute = m.open_dispute(w.job.id, w.client.id, "late")
    assert m.escrow_figures(w.escrow_id).status == "FROZEN"
    refused(store, InvalidTransition, lambda: m.open_dispute(w.job.id, w.freelancer.id, "x"))
    for call in (lambda: m.release_milestone(w.submitted, idempotency_key="a"),
                 lambda: m.refund_escrow(w.escrow_id, "1.00", idempotency_key="b")):
        assert refused(store, Conflict, call, "escrow_id").rule == "frozen"
    refused(store, Conflict, lambda: m.complete_job(w.job.id), "job_id")
    refused(store, Forbidden, lambda: m.review_dispute(dispute.id, actor_id=w.client.id))
    m.review_dispute(dispute.id, actor_id=w.admin.id)
    refused(store, ValidationError, lambda: m.resolve_dispute(
        dispute.id, "split", client_amount="100.00", freelancer_amount="100.00",
        idempotency_key="s"), "client_amount")
    refused(store, ValidationError, lambda: m.resolve_dispute(
        dispute.id, "split", client_amount="300.00", idempotency_key="s"), "freelancer_amount")
    refused(store, ValidationError, lambda: m.resolve_dispute(
        dispute.id, "halves", idempotency_key="s"), "outcome")
    refused(store, Forbidden, lambda: m.resolve_dispute(
        dispute.id, "client", idempotency_key="s", actor_id=w.freelancer.id))

    result = m.resolve_dispute(dispute.id, "split", client_amount="120.00",
                               freelancer_amount="180.00", note="partly done",
                               idempotency_key="s", actor_id=w.admin.id)
    assert (result.to_client, result.to_freelancer, result.status) == (
        Decimal("120.00"), Decimal("180.00"), "RESOLVED_SPLIT")
    assert len(result.transaction_ids) == 2
    figures = m.escrow_figures(w.escrow_id)
    assert (figures.status, figures.remaining, figures.committed) == (
        "SETTLED", Decimal("0.00"), Decimal("0.00"))
    assert [str(Milestone.get_by_id(i).status) for i in (w.pending, w.submitted)] == [
        "CANCELLED", "CANCELLED"]
    assert states(transitions.DISPUTE, dispute.id) == [
        (None, "OPEN"), ("OPEN", "UNDER_REVIEW"), ("UNDER_REVIEW", "RESOLVED_SPLIT")]
    assert states(transitions.ESCROW, w.escrow_id)[-2:] == [("FUNDED", "FROZEN"),
                                                           ("FROZEN", "SETTLED")]
    refused(store, InvalidTransition,
            lambda: m.resolve_dispute(dispute.id, "client", idempotency_key="again"))
    assert str(m.complete_job(w.job.id).status) == "COMPLETED"


@pytest.mark.parametrize("outcome, status, client, freelancer", [
    ("client", "REFUNDED", "300.00", "0.00"),
    ("freelancer", "RELEASED", "0.00", "300.00"),
])
def test_a_dispute_resolved_for_one_party(store, outcome, status, client, freelancer) -> None:
    m = store.market
    w = market_world(store)
    dispute = m.open_dispute(w.job.id, w.freelancer.id, "no answer")
    result = m.resolve_dispute(dispute.id, outcome, idempotency_key="r")
    assert (result.to_client, result.to_freelancer) == (Decimal(client), Decimal(freelancer))
    assert m.escrow_figures(w.escrow_id).status == status
    assert m.balance(w.freelancer.id, "USD") == Decimal(freelancer)


# -- reviews and skills -----------------------------------------------------------------


def test_reviews_after_completion_by_the_parties_once(store) -> None:
    m = store.market
    w = market_world(store)
    refused(store, Conflict, lambda: m.leave_review(w.job.id, w.client.id, 5), "job_id")
    m.cancel_milestone(w.pending)
    m.release_milestone(w.submitted, idempotency_key="r")
    m.refund_escrow(w.escrow_id, idempotency_key="f")
    m.complete_job(w.job.id)
    for rating in (0, 6, "5", True, 4.5):
        refused(store, ValidationError, lambda r=rating: m.leave_review(w.job.id, w.client.id, r),
                "rating")
    refused(store, Forbidden, lambda: m.leave_review(w.job.id, w.rival.id, 3), "reviewer_id")
    review = m.leave_review(w.job.id, w.client.id, 5, "great")
    assert review.reviewee_id == w.freelancer.id
    refused(store, Conflict, lambda: m.leave_review(w.job.id, w.client.id, 4), "reviewer_id")
    assert m.leave_review(w.job.id, w.freelancer.id, 4).reviewee_id == w.client.id


def test_skill_verification_once_per_user_and_skill(store) -> None:
    m = store.market
    ann = m.create_user("a@example.org", "A")
    bob = m.create_user("b@example.org", "B")
    verification = m.verify_skill(ann.id, " Machine  Learning ", "expert", score=90,
                                  verified_by=bob.id)
    assert (verification.skill, str(verification.level)) == ("machine learning", "EXPERT")
    refused(store, Conflict, lambda: m.verify_skill(ann.id, "machine learning", "BEGINNER"),
            "skill")
    refused(store, ValidationError, lambda: m.verify_skill(ann.id, "go", "GURU"), "level")
    refused(store, ValidationError, lambda: m.verify_skill(ann.id, "go", "EXPERT", score=101),
            "score")
    refused(store, Forbidden, lambda: m.verify_skill(ann.id, "go", "EXPERT",
                                                     verified_by=ann.id), "verified_by")


# -- everything at once: bad input leaves no trace -----------------------------------


@dataclass
class Bad:
    name: str
    call: Callable[[Any, MarketWorld], Any]
    error: type[AzoraError]


BAD = [
    Bad("unknown job", lambda m, w: m.hire(424242), NotFound),
    Bad("id as text", lambda m, w: m.get_job("1"), ValidationError),
    Bad("float deposit", lambda m, w: m.deposit(w.client.id, 1.5, "USD",
                                                idempotency_key="f"), ValidationError),
    Bad("negative deposit", lambda m, w: m.deposit(w.client.id, "-1", "USD",
                                                   idempotency_key="f"), ValidationError),
    Bad("unknown currency", lambda m, w: m.deposit(w.client.id, "1", "XXX",
                                                   idempotency_key="f"), ValidationError),
    Bad("blank key", lambda m, w: m.deposit(w.client.id, "1", "USD", idempotency_key=" "),
        ValidationError),
    Bad("overdraw wallet", lambda m, w: m.withdraw(w.client.id, "700.01", "USD",
                                                   idempotency_key="w"), InsufficientFunds),
    Bad("deposit for nobody", lambda m, w: m.deposit(424242, "1", "USD", idempotency_key="n"),
        NotFound),
    Bad("milestone on nothing", lambda m, w: m.add_milestone(424242, "T", "1"), NotFound),
    Bad("milestone float", lambda m, w: m.add_milestone(w.escrow_id, "T", 1.0),
        ValidationError),
    Bad("milestone past due type", lambda m, w: m.add_milestone(
        w.escrow_id, "T", "1", auto_release_at="tomorrow"), ValidationError),
    Bad("submit twice", lambda m, w: m.submit_milestone(w.submitted), InvalidTransition),
    Bad("submit by client", lambda m, w: m.submit_milestone(w.pending, actor_id=w.client.id),
        Forbidden),
    Bad("refund zero", lambda m, w: m.refund_escrow(w.escrow_id, "0", idempotency_key="z"),
        ValidationError),
    Bad("resolve nothing", lambda m, w: m.resolve_dispute(424242, "client",
                                                          idempotency_key="q"), NotFound),
    Bad("dispute no escrow", lambda m, w: m.open_dispute(424242, w.client.id, "x"), NotFound),
    Bad("reopen open job", lambda m, w: m.reopen_job(w.job.id), InvalidTransition),
    Bad("edit skills", lambda m, w: m.edit_job(w.job.id, skills=[1]), ValidationError),
    Bad("apply cover letter type", lambda m, w: m.apply(w.job.id, w.outsider.id, 5),
        ValidationError),
]


def test_bad_requests_are_refused_without_a_trace(store, subtests) -> None:
    world = market_world(store)
    for case in BAD:
        with subtests.test(case.name):
            refused(store, case.error, lambda c=case: c.call(store.market, world))


def test_every_workflow_step_has_history_and_events(store) -> None:
    market_world(store)
    counted = dict(sql(store, "SELECT entity_type, COUNT(*) FROM state_transitions "
                               "GROUP BY entity_type"))
    assert counted == {"JOB": 2, "APPLICATION": 4, "ESCROW": 1, "MILESTONE": 3}
    kinds = {row[0] for row in sql(store, "SELECT DISTINCT entity_type FROM service_sync")}
    assert kinds == {"User", "LedgerTransaction", "Job", "Application", "Escrow", "Milestone"}
    assert StateTransition.select().where(StateTransition.reason == "").count() == 0
    assert str(Job.get().status) == JobStatus.IN_PROGRESS
    assert sorted(str(m.status) for m in Milestone.select()) == [MilestoneStatus.PENDING,
                                                                 MilestoneStatus.SUBMITTED]
    assert Escrow.get().status == EscrowStatus.FUNDED
