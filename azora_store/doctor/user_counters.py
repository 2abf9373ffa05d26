"""The per-user counters (``user_counters``, migration 0017) checked against the
``user_stats`` view they stand in for.

Triggers keep the counters in the same transaction as every change, so they
drift only when something bypasses the triggers (a bulk load with triggers
off, a restore of some tables only, a hand edit). ``check_user_counters``
compares the two for a sample of users spread evenly over the id range, or for
every user; ``Backend.fill_user_counters`` rebuilds them from the tables.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ..queries import UserStatsResult

if TYPE_CHECKING:
    from ..store import Store

SAMPLE = 1_000  # users compared by default (doctor)
BATCH = 500  # ids per statement
FIGURES = ("enrollments", "courses_completed", "jobs_posted", "jobs_completed", "applications",
           "reviews_received", "average_rating", "earnings")


@dataclass
class Drift:
    user_id: int
    counters: dict[str, Any] | None  # None: no counter row, or the user is shown as deleted
    view: dict[str, Any] | None  # None: the view has no row (deleted or missing user)

    def describe(self) -> str:
        if self.counters is None or self.view is None:
            where = "the view" if self.view is None else "the counters"
            return f"user {self.user_id}: missing from {where}"
        wrong = ", ".join(f"{name} {self.counters[name]} != {self.view[name]}"
                          for name in FIGURES if self.counters[name] != self.view[name])
        return f"user {self.user_id}: {wrong} (counters != view)"


@dataclass
class CounterCheck:
    mode: str  # "sample" or "full"
    checked: int  # users compared
    users: int  # rows in users
    counter_rows: int  # rows in user_counters
    drifts: list[Drift] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.drifts and self.users == self.counter_rows


def check_user_counters(store: Store, sample: int | None = SAMPLE) -> CounterCheck:
    """Compare the counters with the view for ``sample`` users spread evenly over
    the id range (every user when there are no more than that), or for every
    user when ``sample`` is None."""
    db = store.db
    low, high, users = db.execute_sql("SELECT MIN(id), MAX(id), COUNT(*) FROM users").fetchone()
    counter_rows = db.execute_sql("SELECT COUNT(*) FROM user_counters").fetchone()[0]
    full = sample is None or users <= sample
    check = CounterCheck("full" if full else "sample", 0, users, counter_rows)
    if low is None:
        return check
    for ids in (_every_id(low, high) if full else _spread(low, high, sample)):
        counters = _counter_rows(store, ids)
        view = _view_rows(store, ids)
        for user_id in sorted(set(counters) | set(view)):
            mine, theirs = counters.get(user_id), view.get(user_id)
            if mine != theirs:
                check.drifts.append(Drift(user_id, mine, theirs))
        check.checked += len(set(counters) | set(view))
    return check


def _every_id(low: int, high: int) -> Iterator[list[int]]:
    for start in range(low, high + 1, BATCH):
        yield list(range(start, min(start + BATCH, high + 1)))


def _spread(low: int, high: int, count: int) -> Iterator[list[int]]:
    step = (high - low) / max(count - 1, 1)
    ids = sorted({low + round(step * k) for k in range(count)})
    for start in range(0, len(ids), BATCH):
        yield ids[start:start + BATCH]


def _figures(row: tuple, read_datetime: Any) -> tuple[int, dict[str, Any]]:
    shown = UserStatsResult(row, read_datetime).to_json()
    return row[0], {name: shown[name] for name in FIGURES}


def _counter_rows(store: Store, ids: list[int]) -> dict[int, dict[str, Any]]:
    """The active users' figures as ``user_stats`` reads them."""
    backend = store.backend
    average = backend.sql_average("rating_sum", "reviews_received")
    rows = backend.fetch(
        "SELECT user_id, enrollments, courses_completed, jobs_posted, jobs_completed, "
        f"applications, reviews_received, {average}, earnings FROM user_counters "
        f"WHERE active AND {backend.sql_in('user_id')}", (backend.list_param(ids),))
    return dict(_figures(row, backend.read_datetime) for row in rows)


def _view_rows(store: Store, ids: list[int]) -> dict[int, dict[str, Any]]:
    backend = store.backend
    rows = backend.fetch(
        "SELECT user_id, enrollments, courses_completed, jobs_posted, jobs_completed, "
        "applications, reviews_received, average_rating, earnings FROM user_stats "
        f"WHERE {backend.sql_in('user_id')}", (backend.list_param(ids),))
    return dict(_figures(row, backend.read_datetime) for row in rows)


__all__ = ["SAMPLE", "CounterCheck", "Drift", "check_user_counters"]
