"""Every rule is enforced by the database itself on both backends.

Each case writes one bad row with raw SQL (so no Python check can help), and
expects the package's error class naming the field and the rule, with the
table unchanged afterwards.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

import pytest

from azora_store.errors import Conflict, InsufficientFunds, ValidationError
from azora_store.models import Job, Review, User
from tests.factories import World, build_world
from tests.helpers import dump, sql

NOW = datetime(2026, 1, 1, 12, 0, 0)


def valid_row(table: str, w: World) -> dict[str, Any]:
    """A row of ``table`` that the database accepts, to be spoiled by one field."""
    c, f = w.client.id, w.freelancer.id
    rows = {
        "users": dict(email="new@example.org", full_name="New", role="MEMBER",
                      created_at=NOW, updated_at=NOW),
        "jobs": dict(client_id=c, title="T", description="", status="OPEN", budget_minor=100,
                     currency="USD", created_at=NOW, updated_at=NOW),
        "applications": dict(job_id=w.job.id, freelancer_id=c, cover_letter="",
                             status="PENDING", created_at=NOW, updated_at=NOW),
        "reviews": dict(job_id=w.job.id, reviewer_id=f, reviewee_id=c, rating=4, comment="",
                        created_at=NOW),
        "enrollments": dict(user_id=c, course_id=w.course.id, status="ACTIVE", progress=0,
                            enrolled_at=NOW, updated_at=NOW),
        "skill_verifications": dict(user_id=c, skill="go", level="EXPERT", evidence="",
                                    created_at=NOW, updated_at=NOW),
        "kyc_verifications": dict(user_id=c, status="PENDING", document_type="PASSPORT",
                                  document_ciphertext=b"x", document_index="b" * 64,
                                  document_masked="***", key_id="k", rejection_reason="",
                                  submitted_at=NOW, created_at=NOW, updated_at=NOW),
        "aml_checks": dict(user_id=c, score=10, flagged=False, reason="", rule_version="v1",
                           provider="internal", created_at=NOW),
        "accounts": dict(kind="WALLET", owner_id=f, currency="USD", balance_minor=0,
                         created_at=NOW, updated_at=NOW),
        "transfers": dict(transaction_id=w.transfer.transaction_id, kind="DEPOSIT",
                          from_account_id=w.external.id, to_account_id=w.client_wallet.id,
                          amount_minor=100, currency="USD", created_at=NOW),
        "disputes": dict(job_id=w.job.id, escrow_id=w.escrow.id, opened_by_id=f, reason="x",
                         status="OPEN", resolution_note="", created_at=NOW, updated_at=NOW),
        "escrows": dict(job_id=w.job.id, client_id=c, freelancer_id=f, amount_minor=100,
                        currency="USD", status="FUNDED", created_at=NOW, updated_at=NOW),
    }
    return rows[table]


def insert(store, table: str, row: dict[str, Any]) -> None:
    columns = ", ".join(f'"{name}"' for name in row)
    marks = ", ".join("?" for _ in row)
    sql(store, f'INSERT INTO "{table}" ({columns}) VALUES ({marks})', *row.values())


@dataclass
class Case:
    id: str
    table: str
    change: dict[str, Any] | Callable[[World], dict[str, Any]]
    error: type
    field: str | None
    rule: str


CASES = [
    Case("email-lowercase", "users", {"email": "Upper@Example.org"}, ValidationError, "email",
         "lower"),
    Case("email-shape", "users", {"email": "not-an-email"}, ValidationError, "email", "email"),
    Case("email-unique", "users", {"email": "client@example.org"}, Conflict, "email", "unique"),
    Case("name-blank", "users", {"full_name": "   "}, ValidationError, "full_name", "not_blank"),
    Case("role-enum", "users", {"role": "KING"}, ValidationError, "role", "enum"),
    Case("name-required", "users", {"full_name": None}, ValidationError, "full_name",
         "required"),
    Case("budget-zero", "jobs", {"budget_minor": 0}, ValidationError, "budget", "positive"),
    Case("budget-negative", "jobs", {"budget_minor": -5}, ValidationError, "budget",
         "positive"),
    Case("budget-too-large", "jobs", {"budget_minor": 10**15 + 1}, ValidationError, "budget",
         "positive"),
    Case("currency-enum", "jobs", {"currency": "XXX"}, ValidationError, "currency", "enum"),
    Case("job-status-enum", "jobs", lambda w: {"status": "DONE", "freelancer_id": w.freelancer.id},
         ValidationError, "status", "enum"),
    Case("job-client-fk", "jobs", {"client_id": 999_999}, ValidationError, "client",
         "foreign_key"),
    Case("job-freelancer-not-client", "jobs", lambda w: {"freelancer_id": w.client.id},
         ValidationError, "freelancer", "check"),
    Case("job-hired-needs-freelancer", "jobs", {"status": "IN_PROGRESS"}, ValidationError,
         "freelancer", "check"),
    Case("application-unique", "applications", lambda w: {"freelancer_id": w.freelancer.id},
         Conflict, "freelancer", "unique"),
    Case("application-status", "applications", {"status": "MAYBE"}, ValidationError,
         "status", "enum"),
    Case("rating-low", "reviews", {"rating": 0}, ValidationError, "rating", "range"),
    Case("rating-high", "reviews", {"rating": 6}, ValidationError, "rating", "range"),
    Case("review-unique", "reviews", lambda w: {"reviewer_id": w.client.id,
                                                "reviewee_id": w.freelancer.id},
         Conflict, "reviewer", "unique"),
    Case("review-self", "reviews", lambda w: {"reviewee_id": w.freelancer.id},
         ValidationError, "reviewee", "check"),
    Case("enrollment-unique", "enrollments", lambda w: {"user_id": w.freelancer.id}, Conflict,
         "course", "unique"),
    Case("progress-range", "enrollments", {"progress": 101}, ValidationError, "progress",
         "range"),
    Case("skill-unique", "skill_verifications", lambda w: {"user_id": w.freelancer.id,
                                                           "skill": "python"},
         Conflict, "skill", "unique"),
    Case("skill-lowercase", "skill_verifications", {"skill": "Go"}, ValidationError, "skill",
         "lower"),
    Case("kyc-one-per-user", "kyc_verifications", lambda w: {"user_id": w.freelancer.id},
         Conflict, "user", "unique"),
    Case("aml-score", "aml_checks", {"score": 101}, ValidationError, "score", "range"),
    Case("balance-negative", "accounts", {"balance_minor": -1}, InsufficientFunds, "balance",
         "check"),
    Case("wallet-needs-owner", "accounts", {"owner_id": None}, ValidationError, "owner",
         "check"),
    Case("transfer-same-account", "transfers", lambda w: {"to_account_id": w.external.id},
         ValidationError, "to_account", "check"),
    Case("transfer-currency", "transfers", {"currency": "EUR"}, ValidationError, "currency",
         "foreign_key"),
    Case("transfer-amount", "transfers", {"amount_minor": 0}, ValidationError, "amount",
         "positive"),
    Case("one-active-dispute", "disputes", {}, Conflict, "escrow", "unique"),
    Case("escrow-one-per-job", "escrows", {}, Conflict, "job", "unique"),
    Case("escrow-parties", "escrows", lambda w: {"freelancer_id": w.client.id},
         ValidationError, "freelancer", "check"),
]


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_database_rejects_bad_row(store, case: Case) -> None:
    world = build_world(store)
    row = valid_row(case.table, world)
    row.update(case.change(world) if callable(case.change) else case.change)
    before = dump(store, case.table)
    with pytest.raises(case.error) as raised:
        insert(store, case.table, row)
    assert (raised.value.field, raised.value.rule) == (case.field, case.rule), raised.value
    assert case.field is None or case.field in str(raised.value)
    assert dump(store, case.table) == before


def test_valid_rows_are_accepted(store) -> None:
    """The baseline rows really are valid, so each case above fails for its one change."""
    world = build_world(store)
    for table in ("users", "jobs", "aml_checks", "accounts", "transfers"):
        insert(store, table, valid_row(table, world))


def test_delete_of_referenced_user_is_refused(store) -> None:
    world = build_world(store)
    before = dump(store, "users")
    with pytest.raises(Conflict) as raised:
        User.delete().where(User.id == world.client.id).execute()
    assert raised.value.rule == "restrict"
    assert dump(store, "users") == before


@pytest.mark.parametrize("table", ["security_events", "transfers", "ledger_transactions"])
def test_audit_rows_are_append_only(store, table: str) -> None:
    build_world(store)
    before = dump(store, table)
    with pytest.raises(Conflict, match="append-only"):
        sql(store, f'UPDATE "{table}" SET created_at = ?', NOW)
    with pytest.raises(Conflict, match="append-only"):
        sql(store, f'DELETE FROM "{table}"')
    assert dump(store, table) == before


def test_python_checks_refuse_before_the_database(store) -> None:
    """The same rules run in Python on save(): no round trip, same error."""
    world = build_world(store)
    with pytest.raises(ValidationError) as raised:
        Review(job=world.job, reviewer=world.freelancer, reviewee=world.client, rating=9).save()
    assert (raised.value.field, raised.value.rule) == ("rating", "range")
    with pytest.raises(ValidationError) as raised:
        Job(client=world.client, title="x", budget=Decimal("1"), currency="YEN").save()
    assert (raised.value.field, raised.value.rule) == ("currency", "enum")
    with pytest.raises(ValidationError) as raised:
        Job(client=world.client, title="x", budget=1.5, currency="USD").save()
    assert (raised.value.field, raised.value.rule) == ("budget", "type")
    with pytest.raises(ValidationError) as raised:
        Job(client=world.client, title="x", budget=Decimal("1.001"), currency="USD").save()
    assert raised.value.rule == "precision"
    assert Job.select().count() == 1


def test_email_is_stored_lower_case_and_unique_regardless_of_case(store) -> None:
    User.create(email="  Mixed.Case@Example.ORG ", full_name="M")
    assert sql(store, "SELECT email FROM users") == [("mixed.case@example.org",)]
    with pytest.raises(Conflict) as raised:
        User.create(email="MIXED.case@example.org", full_name="N")
    assert raised.value.field == "email"
    assert User.get(User.email == "MIXED.CASE@example.org").full_name == "M"


def test_money_round_trips_exactly(store) -> None:
    world = build_world(store)
    job = Job.create(client=world.client, title="Exact", budget="12345678901.23",
                     currency="EUR")
    assert Job.get_by_id(job.id).budget == Decimal("12345678901.23")
    assert sql(store, "SELECT budget_minor FROM jobs WHERE id = ?", job.id) == [
        (1234567890123,)]
