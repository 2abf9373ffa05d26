"""Read-only models over the analytics views the migrations create.

``JobAnalytics``: one row per day and currency with jobs created, completed
and cancelled that day and the budgets involved. ``UserStats``: one row per
user with enrollments, jobs posted, jobs completed as freelancer,
applications, average rating and earnings. Earnings are a JSON object of
currency -> minor units, because amounts in different currencies are never
added together. The view SQL is dialect-specific and lives in the backends.

``UserCounter`` is the same figures kept per user by triggers (migration
0017), so ``user_stats`` reads one row instead of aggregating several tables.
"""

from __future__ import annotations

from decimal import Decimal

from peewee import (
    BigIntegerField,
    BooleanField,
    CharField,
    DateField,
    DecimalField,
    IntegerField,
    TextField,
)

from ..money import from_minor
from ..support import jsonutil
from .base import BaseModel
from .fields import BalanceField


class ViewModel(BaseModel):
    """A model over a view: never created by ``create_tables``, never saved."""

    def save(self, *args, **kwargs):
        raise TypeError(f"{type(self).__name__} is a read-only view")


class JobAnalytics(ViewModel):
    day = DateField()
    currency = CharField(max_length=3)
    jobs_created = IntegerField()
    jobs_completed = IntegerField()
    jobs_cancelled = IntegerField()
    budget_created = BalanceField()
    budget_completed = BalanceField()

    class Meta:
        table_name = "job_analytics"
        primary_key = False


class UserStats(ViewModel):
    user_id = IntegerField(primary_key=True)
    enrollments = IntegerField()
    courses_completed = IntegerField()
    jobs_posted = IntegerField()
    jobs_completed = IntegerField()
    applications = IntegerField()
    reviews_received = IntegerField()
    average_rating = DecimalField(max_digits=4, decimal_places=2, null=True)
    earnings_json = TextField(column_name="earnings")

    class Meta:
        table_name = "user_stats"

    @property
    def earnings(self) -> dict[str, Decimal]:
        """Earnings per currency, e.g. ``{"USD": Decimal("1200.00")}``."""
        raw = self.earnings_json
        parsed = raw if isinstance(raw, dict) else jsonutil.loads(raw or "{}")
        return {currency: from_minor(int(minor)) for currency, minor in sorted(parsed.items())}


class UserCounter(BaseModel):
    """One row per user with what ``UserStats`` aggregates, changed by triggers
    in the same transaction as every insert, update and delete of the rows it
    counts (users, enrollments, jobs, applications, reviews, release transfers,
    wallet accounts). ``active`` mirrors ``users.deleted_at IS NULL``; the
    average rating is ``rating_sum / reviews_received``; ``earnings`` is the
    view's JSON object of currency -> minor units. Never written by the
    package itself: ``azora-store doctor`` compares it with the view."""

    user_id = IntegerField(primary_key=True)  # users.id; no FK: rows go with the user
    active = BooleanField()
    enrollments = IntegerField()
    courses_completed = IntegerField()
    jobs_posted = IntegerField()
    jobs_completed = IntegerField()
    applications = IntegerField()
    reviews_received = IntegerField()
    rating_sum = BigIntegerField()
    earnings = TextField()

    class Meta:
        table_name = "user_counters"


__all__ = ["JobAnalytics", "UserCounter", "UserStats", "ViewModel"]
