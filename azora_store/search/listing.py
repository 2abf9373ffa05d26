"""Job listings (no text): newest first by (created_at, id), the plan chosen
from the filters and the cached numbers.

- skills given: walk the rarest skill's postings newest first; each posting
  carries its job's open state, creation time, budget and currency, so budget
  and currency are checked inside the index, and the other skills by primary
  key (or sort the full-text index's intersection of the skills, where it
  holds them and that costs less);
- a narrow budget range (at most 2% of open jobs): scan that range of the
  budget index and sort the few rows;
- another status: the skill with the fewest postings in that status drives,
  unless the budget range holds fewer jobs (counted, bounded);
- otherwise: walk the open jobs newest first, filters checked in the index.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from ..models.marketplace import JobStatus
from ..money import CURRENCIES
from .numbers import OPEN
from .parts import PlanParts, key_time
from .request import SearchRequest

BUDGET_INDEX_SHARE = 0.02  # use the budget index when the range holds at most this share
# Sort the jobs of a budget range when fewer than this many (OPEN: by the cached
# budgets; other statuses: counted in the index up to this many); else walk
# newest first, passing at most (page size x jobs of the status / this) jobs
# per page: both bounded (e.g. 4,096 and 101 x 600k / 4,096 = 15k at large).
RANGE_SORT_CAP = 4_096


class ListingPlans(PlanParts):
    """The listing half of :class:`~azora_store.search.planner.SearchPlanner`."""

    def _search_listing(self, request: SearchRequest, after: list[Any] | None
                        ) -> tuple[list[tuple], Any]:
        """Newest first by (created_at, id); the plan depends on the filters."""
        plan = ""  # the driving skill, or the index hint
        by_index = False  # the text index intersects the skills
        by_budget = False  # sort the few jobs in the budget range (ix_jobs_listed_budget)
        ranged = request.min_budget is not None or request.max_budget is not None
        if request.status != JobStatus.OPEN:
            # No cached numbers for the other statuses: counts bounded by
            # RANGE_SORT_CAP decide. The skill with the fewest postings in that
            # status drives the walk, unless the budget range holds fewer jobs.
            postings: dict[str, int] = {}
            if len(request.skills) > 1:
                postings = {skill: self._count_postings(skill, request.status)
                            for skill in request.skills}
            if request.skills:
                plan = min(request.skills, key=lambda skill: postings.get(skill, 0))
            if ranged:
                in_range = self._count_in_range(request)
                by_budget = in_range < RANGE_SORT_CAP and (not plan or in_range < (
                    postings[plan] if postings else self._count_postings(plan, request.status)))
        elif request.skills:
            plan, count = self._rarest_skill(request)
            if count == 0 and self._stats_fresh():
                return [], None  # a skill no open job has: nothing can match
            by_budget = ranged and self._open_in_range(request) < min(RANGE_SORT_CAP, count)
            by_index = not by_budget and self._skills_by_index(request, plan, count)
        elif ranged:
            # Sort the range's jobs when they are few (a currency few jobs
            # have can make a wide range few); else walk newest first.
            by_budget = (self._open_in_range(request) < RANGE_SORT_CAP or
                         self._share_between(request.min_budget, request.max_budget)
                         <= BUDGET_INDEX_SHARE)
        if by_budget:
            plan, by_index = "", False
        paged = after is not None
        sql, params = self._statement(
            ("listing", request, plan, paged, by_index, by_budget),
            lambda: self._listing_sql(request, plan, paged, by_index, by_budget))
        rows = self.backend.fetch(sql, [*params, *(after or ()), request.limit + 1], True)
        return self._page(rows, request.limit, lambda r: [key_time(r[8]), r[0]])

    def _skills_by_index(self, request: SearchRequest, driver: str, count: int) -> bool:
        """Two skills or more: sort the text index's intersection of them, or walk
        the rarest one's ``count`` postings newest first probing the others,
        whichever costs less for the matches expected (from the cached posting
        counts, as if independent). Few matches: the walk would probe every
        posting; many: it stops after a few, and sorting them all costs more."""
        index = self.backend.fulltext
        if len(request.skills) < 2 or index.skill_match_cost_us is None:
            return False
        counts, budgets = self._stats()
        open_jobs = max(len(budgets), 1)
        expected = float(count)
        for skill in request.skills:
            if skill != driver:
                expected *= counts.get(skill, 0) / open_jobs
        want = request.limit + 1
        probes = count if expected <= want else count * want / expected
        return (expected * index.skill_match_cost_us
                < probes * index.skill_probe_cost_us)

    def _count_in_range(self, request: SearchRequest) -> int:
        """The jobs of the request's status, currency and budget range, counted
        in ``ix_jobs_listed_budget`` up to ``RANGE_SORT_CAP``. Fewer: sorting
        them is bounded. That many: at least one job in ``RANGE_SORT_CAP`` of
        the status is in range, which bounds the walk newest first."""
        where, params = self._range_where(request)
        sql = (f"SELECT COUNT(*) FROM (SELECT 1 FROM jobs AS j"
               f"{self.backend.index_hint('ix_jobs_listed_budget')} WHERE {where} "
               f"LIMIT {self.p}) AS c")
        return self.backend.fetch(sql, [*params, RANGE_SORT_CAP])[0][0]

    def _count_postings(self, skill: str, status: str) -> int:
        """A skill's postings of jobs in a status other than OPEN, counted in
        ``ix_job_skills_status`` up to ``RANGE_SORT_CAP``."""
        p = self.p
        sql = (f"SELECT COUNT(*) FROM (SELECT 1 FROM job_skills AS s WHERE s.skill = {p} "
               f"AND s.job_status = {p} LIMIT {p}) AS c")
        return self.backend.fetch(sql, [skill, status, RANGE_SORT_CAP])[0][0]

    def _range_where(self, request: SearchRequest) -> tuple[str, list[Any]]:
        """Status, currency and budget range as ``ix_jobs_listed_budget`` seeks
        them (every currency listed when none is asked for, one seek each)."""
        p = self.p
        where, params = [f"j.status = {p}", "j.deleted_at IS NULL"], [request.status]
        if request.currency is None:  # constants: the statement is the same for all
            where.append(f"j.currency IN ({', '.join(p for _ in CURRENCIES)})")
            params += CURRENCIES
        else:
            where.append(f"j.currency = {p}")
            params.append(request.currency)
        budget, budget_params = self._budget_range(request, "j")
        return " AND ".join(where + budget), params + budget_params

    def _listing_sql(self, request: SearchRequest, plan: str, paged: bool,
                     by_index: bool = False, by_budget: bool = False
                     ) -> tuple[str, list[Any]]:
        """The listing's statement and its parameters but the cursor's and the
        LIMIT: the few jobs in a budget range (``by_budget``), driven by the text
        index's intersection of the skills (``by_index``), by the skill ``plan``
        names, or with the index hint it is."""
        p = self.p
        if by_budget:
            hint = self.backend.index_hint("ix_jobs_listed_budget")
            source, key, ident = f"jobs AS j{hint}", "j.created_at", "j.id"
            range_where, params = self._range_where(request)
            where = [range_where]
            filters, extra = self._filters(
                replace(request, min_budget=None, max_budget=None, currency=None), "j", "j.id")
        elif request.status != JobStatus.OPEN and plan:
            # The skill's postings of jobs in that status (ix_job_skills_status).
            source, key, ident = "job_skills AS s", "s.job_created_at", "s.job_id"
            where, params = [f"s.skill = {p}", f"s.job_status = {p}"], [plan, request.status]
            filters, extra = self._filters(request, "s", "s.job_id", skip_skill=plan)
        elif request.status != JobStatus.OPEN:
            hint = self.backend.index_hint("ix_jobs_listed")
            source, key, ident = f"jobs AS j{hint}", "j.created_at", "j.id"
            where, params = [f"j.status = {p}", "j.deleted_at IS NULL"], [request.status]
            filters, extra = self._filters(request, "j", "j.id")
        elif by_index:
            match, params = self.backend.fulltext.skills_match(request.skills)
            source, key, ident = "jobs AS j", "j.created_at", "j.id"
            where = [match, OPEN]
            filters, extra = self._filters(replace(request, skills=()), "j", "j.id")
        elif request.skills:
            source, key, ident = "job_skills AS s", "s.open_created_at", "s.job_id"
            where, params = [f"s.skill = {p}", "s.open_created_at IS NOT NULL"], [plan]
            filters, extra = self._filters(request, "s", "s.job_id", skip_skill=plan)
        else:
            # Newest first through ix_jobs_listed, every filter checked in it:
            # given a budget range, SQLite's planner may read the range from
            # another index and visit and sort each row (30k at large: 30 ms).
            hint = self.backend.index_hint("ix_jobs_listed")
            source, key, ident = f"jobs AS j{hint}", "j.created_at", "j.id"
            where, params = [OPEN], []
            filters, extra = self._filters(request, "j", "j.id")
        where += filters
        if paged:
            where.append(f"({key}, {ident}) < ({p}, {p})")
        inner = (f"SELECT {key} AS k, {ident} AS id FROM {source} WHERE {' AND '.join(where)} "
                 f"ORDER BY {key} DESC, {ident} DESC LIMIT {p}")
        return self._jobs_sql(inner, with_key=True), params + extra
