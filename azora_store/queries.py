"""The four target queries: job search, user stats, sync status, KYC look-up.

Each is one function taking the store first. They return the same results on
both backends and run precompiled SQL on the thread's connection, so the
package adds only microseconds over the raw driver (the benchmarks measure
the ratio in the same run). How job search plans is in
:mod:`azora_store.search.planner`; its request, results, facets and plan
read-outs are in :mod:`azora_store.search`.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from .errors import NotFound, ValidationError
from .replicas import read_path
from .search import cursors
from .search.planner import RANGE_SORT_CAP, SearchPlanner
from .search.request import MAX_LIMIT, MAX_SKILLS, MAX_TEXT, SearchRequest
from .search.results import JobHit, KycRecord, SearchPage, UserStatsResult

if TYPE_CHECKING:
    from .store import Store
    from .sync.outbox import SyncStatusReport

STATEMENTS_KEPT = 4_096  # statements remembered per store (SQL and parameters of a request)


# -- the queries ---------------------------------------------------------------------


class Queries(SearchPlanner):
    """Per-store query state: precompiled SQL and the cached plan numbers; job
    search comes from :class:`~azora_store.search.planner.SearchPlanner`."""

    def __init__(self, store: Store):
        self.store = store
        self.backend = store.backend
        self.db = store.db
        self.p = self.db.param
        self._statements: dict[tuple, tuple[str, tuple[Any, ...]]] = {}
        self._stats_lock = threading.Lock()
        self._stats_at = 0.0
        self._skill_counts: dict[str, int] = {}
        self._budgets: list[int] = []
        self._budgets_in: dict[str, list[int]] = {}  # per currency
        self._term_shares: dict[str, float] = {}  # of the text index's common terms
        self._term_floor = 1.0  # the least share listed: a rarer term's is at most that
        self._query_terms: dict[str, list[str]] = {}
        self._schema_checked = False
        self._cursors: cursors.CursorCodec | None = None
        agg = self.backend.sql_string_agg("k.skill")
        self.columns = ("j.id, j.title, j.status, j.budget_minor, j.currency, j.created_at, "
                        f"j.client_id, (SELECT {agg} FROM job_skills AS k WHERE k.job_id = j.id)")
        # One row of the trigger-kept counters (migration 0017), not the view's
        # aggregates: a random user costs one primary-key look-up.
        average = self.backend.sql_average("rating_sum", "reviews_received")
        self._user_stats_sql = (
            "SELECT user_id, enrollments, courses_completed, jobs_posted, jobs_completed, "
            f"applications, reviews_received, {average}, earnings FROM user_counters "
            f"WHERE user_id = {self.p} AND active")
        kyc = ("SELECT user_id, status, risk_level, document_type, document_masked, country, "
               "submitted_at, reviewed_at, expires_at FROM kyc_verifications")
        # By user: from the covering index alone (migration 0024), one leaf when
        # cold; SQLite would take the unique index on user_id and then the row.
        self._kyc_by_user_sql = (kyc + self.backend.index_hint("ix_kyc_verifications_user")
                                 + f" WHERE user_id = {self.p}")
        self._kyc_by_document_sql = kyc + f" WHERE document_index = {self.p} ORDER BY id"

    # -- execution -----------------------------------------------------------------

    def rows(self, sql: str, params: list[Any] | tuple[Any, ...],
             plan_each_time: bool = False) -> list[tuple]:
        """Run SQL on this thread's connection (no ORM layer; the hot paths call
        ``backend.fetch`` directly)."""
        return self.backend.fetch(sql, params, plan_each_time)

    def _statement(self, key: tuple, make: Callable[[], tuple[str, list[Any]]]
                   ) -> tuple[str, tuple[Any, ...]]:
        """``make()``'s SQL and parameters, remembered under ``key``: the request
        and plan they derive from, nothing read from the data."""
        found = self._statements.get(key)
        if found is None:
            if len(self._statements) >= STATEMENTS_KEPT:
                self._statements.clear()
            sql, params = make()
            found = self._statements[key] = (sql, tuple(params))
        return found

    # -- user stats ------------------------------------------------------------------

    @read_path
    def user_stats(self, user_id: int) -> UserStatsResult:
        if isinstance(user_id, bool) or not isinstance(user_id, int):
            raise ValidationError("user_id must be an integer", field="user_id", rule="type")
        rows = self.backend.fetch(self._user_stats_sql, (user_id,))
        if not rows:
            raise NotFound(f"no user {user_id}", field="user_id")
        return UserStatsResult(rows[0], self.backend.read_datetime)

    # -- KYC -------------------------------------------------------------------------

    @read_path
    def kyc_lookup(self, user_id: int | None = None, document_number: str | None = None
                   ) -> KycRecord:
        if user_id is None and document_number is None:
            raise ValidationError("give user_id or document_number", field="user_id",
                                  rule="required")
        if document_number is not None:
            index = self.store.compliance.document_index(document_number)
            rows = self.backend.fetch(self._kyc_by_document_sql, (index,))
            holders = {row[0] for row in rows}
            if user_id is not None:
                rows = [row for row in rows if row[0] == user_id]
            if not rows:
                raise NotFound("no KYC record with that document number",
                               field="document_number")
            others = len(holders) - 1
        else:
            if isinstance(user_id, bool) or not isinstance(user_id, int):
                raise ValidationError("user_id must be an integer", field="user_id", rule="type")
            rows = self.backend.fetch(self._kyc_by_user_sql, (user_id,))
            if not rows:
                raise NotFound(f"no KYC record for user {user_id}", field="user_id")
            others = 0
        return KycRecord(rows[0], self.backend.read_datetime, others)


# -- the public functions ------------------------------------------------------------


def search_jobs(store: Store, text: str | None = None, skills: Any = (), status: str = "OPEN",
                min_budget: Any = None, max_budget: Any = None, currency: str | None = None,
                limit: int = 20, cursor: str | None = None) -> SearchPage:
    """Search jobs (see the module docstring for order and paging)."""
    return store.queries.search_jobs(text, skills, status, min_budget, max_budget, currency,
                                     limit, cursor)


def user_stats(store: Store, user_id: int) -> UserStatsResult:
    """Enrollments, jobs posted and completed, applications, reviews, average
    rating and earnings per currency (from the ledger) of one user."""
    return store.queries.user_stats(user_id)


def sync_status(store: Store) -> SyncStatusReport:
    """Exact outbox counts per status and service, and the oldest pending age."""
    return store.sync.status()


def kyc_lookup(store: Store, user_id: int | None = None, document_number: str | None = None
               ) -> KycRecord:
    """KYC status, risk level and masked document of a user, found by user id or by
    document number (through the blind index; the number itself is never stored)."""
    return store.queries.kyc_lookup(user_id, document_number)


__all__ = ["MAX_LIMIT", "MAX_SKILLS", "MAX_TEXT", "RANGE_SORT_CAP", "JobHit", "KycRecord",
           "Queries", "SearchPage", "SearchRequest", "UserStatsResult", "kyc_lookup",
           "search_jobs", "sync_status", "user_stats"]
