"""JobAnalytics and UserStats give the right figures for a hand-made dataset."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from azora_store.models import (
    Account,
    AccountKind,
    Course,
    CourseStatus,
    Enrollment,
    EnrollmentStatus,
    Escrow,
    Job,
    JobAnalytics,
    JobStatus,
    Review,
    TransactionKind,
    UserStats,
)
from tests.factories import make_user, transfer

DAY1, DAY2 = datetime(2026, 3, 1, 9, 30), datetime(2026, 3, 2, 17, 0)


def build(store):
    with store.atomic():
        ann = make_user("ann@example.org", "Ann")  # client
        bob = make_user("bob@example.org", "Bob")  # freelancer
        cat = make_user("cat@example.org", "Cat")  # another freelancer
        course = Course.create(instructor=ann, title="SQL", status=CourseStatus.PUBLISHED)
        other = Course.create(instructor=ann, title="Go", status=CourseStatus.PUBLISHED)
        Enrollment.create(user=bob, course=course, status=EnrollmentStatus.COMPLETED)
        Enrollment.create(user=bob, course=other)

        def job(title, budget, currency, status, created, closed=None, freelancer=None):
            return Job.create(client=ann, title=title, budget=Decimal(budget), currency=currency,
                              status=status, created_at=created, closed_at=closed,
                              freelancer=freelancer)

        done = job("A", "100.00", "USD", JobStatus.COMPLETED, DAY1, DAY2, bob)
        done_eur = job("B", "50.00", "EUR", JobStatus.COMPLETED, DAY1, DAY2, bob)
        job("C", "30.00", "USD", JobStatus.CANCELLED, DAY1, DAY1)
        job("D", "7.25", "USD", JobStatus.OPEN, DAY2)
        deleted = job("E", "1000.00", "USD", JobStatus.OPEN, DAY2)
        deleted.deleted_at = DAY2
        deleted.save()
        job("F", "20.00", "USD", JobStatus.COMPLETED, DAY2, DAY2, cat)

        Review.create(job=done, reviewer=ann, reviewee=bob, rating=5)
        Review.create(job=done_eur, reviewer=ann, reviewee=bob, rating=4)

        external = {c: Account.create(kind=AccountKind.EXTERNAL, currency=c) for c in
                    ("USD", "EUR")}
        for paid, amount in ((done, "100.00"), (done_eur, "50.00")):
            escrow = Escrow.create(job=paid, client=ann, freelancer=bob, amount=Decimal(amount),
                                   currency=paid.currency)
            held = Account.create(kind=AccountKind.ESCROW, escrow=escrow,
                                  currency=paid.currency)
            wallet = Account.create(kind=AccountKind.WALLET, owner=bob, currency=paid.currency)
            transfer(TransactionKind.DEPOSIT, external[paid.currency], held, amount, escrow)
            transfer(TransactionKind.ESCROW_RELEASE, held, wallet, amount, escrow)
    return ann, bob, cat


def test_job_analytics_per_day_and_currency(store) -> None:
    build(store)
    rows = {(r.day, r.currency): (r.jobs_created, r.jobs_completed, r.jobs_cancelled,
                                  r.budget_created, r.budget_completed)
            for r in JobAnalytics.select()}
    d1, d2 = date(2026, 3, 1), date(2026, 3, 2)
    assert rows == {
        (d1, "USD"): (2, 0, 1, Decimal("130.00"), Decimal("0.00")),
        (d1, "EUR"): (1, 0, 0, Decimal("50.00"), Decimal("0.00")),
        (d2, "USD"): (2, 2, 0, Decimal("27.25"), Decimal("120.00")),
        (d2, "EUR"): (0, 1, 0, Decimal("0.00"), Decimal("50.00")),
    }


def test_user_stats_per_user(store) -> None:
    ann, bob, cat = build(store)
    stats = {s.user_id: s for s in UserStats.select()}
    b = stats[bob.id]
    assert (b.enrollments, b.courses_completed, b.jobs_posted, b.jobs_completed,
            b.reviews_received) == (2, 1, 0, 2, 2)
    assert Decimal(b.average_rating) == Decimal("4.5")
    assert b.earnings == {"EUR": Decimal("50.00"), "USD": Decimal("100.00")}
    a = stats[ann.id]
    assert (a.jobs_posted, a.jobs_completed, a.average_rating, a.earnings) == (5, 0, None, {})
    c = stats[cat.id]
    assert (c.jobs_completed, c.earnings) == (1, {})
