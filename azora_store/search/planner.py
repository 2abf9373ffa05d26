"""The job search planner (a part of :class:`~azora_store.queries.Queries`).

Job search chooses its plan in the application, the way a search engine does,
from numbers it caches for a few minutes (open postings per skill, budgets of
open jobs):

- skills given: walk the rarest skill's postings newest first; each posting
  carries its job's open state, creation time, budget and currency, so budget
  and currency are checked inside the index, and the other skills by primary
  key;
- a narrow budget range (at most 2% of open jobs): scan that range of the
  budget index and sort the few rows;
- otherwise: walk the open jobs newest first, filters checked in the index;
- text: title matches first, then the other matches, newest (highest id)
  first within each, driven by the full-text index, which also holds each
  job's skills. FTS5 (SQLite) yields matches newest first and stops at the
  LIMIT. GIN (Postgres) yields them unordered, so each statement is confined
  to a window of ids the index resolves itself (units of 4,096 ids there): the
  newest two units, the next six, then the rest (only reached when matches are
  sparse, so few); one statement when the skills and budget asked for leave
  few open jobs (the cached numbers tell).

Paging is keyset: the opaque cursor holds the last row's sort key and a
fingerprint of the filters, so it stays correct when jobs are inserted
meanwhile and is refused with a different query. Cursors are signed and
checked key by key before use (``cursors.py``): a forged one is a
ValidationError naming ``cursor``.
"""

from __future__ import annotations

import bisect
import time
from dataclasses import replace
from itertools import repeat
from typing import Any

from ..errors import SchemaOutOfDate
from ..models.marketplace import JobStatus
from ..money import CURRENCIES
from ..replicas import read_path
from . import cursors
from .facets import bucket_span
from .request import SearchRequest
from .results import JobHit, SearchPage

STATS_TTL = 300.0  # seconds the plan numbers are reused
BUDGET_INDEX_SHARE = 0.02  # use the budget index when the range holds at most this share
# Sort the jobs of a budget range when fewer than this many (OPEN: by the cached
# budgets; other statuses: counted in the index up to this many); else walk
# newest first, passing at most (page size x jobs of the status / this) jobs
# per page: both bounded (e.g. 4,096 and 101 x 600k / 4,096 = 15k at large).
RANGE_SORT_CAP = 4_096
TEXT_CHECK_BUDGET_US = 5_000.0  # drive text search from a skill if checking it costs less
# Windows of ids over an unordered text index, in units of the backend's size:
# the newest two; then as many as the density seen so far says the rows still
# wanted need (with a margin), at most 32 at a time; while nothing matched, six,
# then the rest of the ids at once (the matches are sparse).
TEXT_WINDOWS = (2, 6, 32)
TEXT_WINDOW_MARGIN = 1.5
TEXT_WINDOW_SKIP = 1_000  # no windows when skills and budget leave this many open jobs

OPEN = "j.status = 'OPEN' AND j.deleted_at IS NULL"
#: What text search narrows its index by: (currency, (min budget, max budget)).
Facets = tuple[str | None, tuple[int | None, int | None]]



class SearchPlanner:
    """Job search: the plan chosen from the cached numbers, its SQL, keyset
    paging. A part of :class:`~azora_store.queries.Queries`, which holds the
    state (``rows``, ``_statement``, the cached numbers)."""

    @property
    def cursors(self) -> cursors.CursorCodec:
        """The cursor codec, keyed on first use (the key may be read from the
        database)."""
        codec = self._cursors
        if codec is None:
            codec = self._cursors = cursors.CursorCodec(cursors.cursor_key(self.backend))
        return codec

    @read_path
    def search_jobs(self, text: str | None = None, skills: Any = (), status: str = "OPEN",
                    min_budget: Any = None, max_budget: Any = None, currency: str | None = None,
                    limit: int = 20, cursor: str | None = None) -> SearchPage:
        request = SearchRequest.of(text, skills, status, min_budget, max_budget, currency,
                                   limit)
        after = (None if cursor is None else self.cursors.decode(
            cursor, request.fingerprint, cursors.TEXT if request.text else cursors.LISTING))
        if request.text:
            rows, key = self._search_text(request, after)
        else:
            rows, key = self._search_listing(request, after)
        return SearchPage(list(map(JobHit, rows, repeat(self.backend.read_datetime))),
                          self.cursors.encode(request.fingerprint, key) if key else None)

    def _filters(self, request: SearchRequest, alias: str, job_id: str,
                 skip_skill: str | None = None) -> tuple[list[str], list[Any]]:
        """Budget and currency (on ``alias``, a jobs row or a posting) and the skills
        other than ``skip_skill`` (by primary key of job_skills)."""
        sql, params = [], []
        if request.min_budget is not None:
            sql.append(f"{alias}.budget_minor >= {self.p}")
            params.append(request.min_budget)
        if request.max_budget is not None:
            sql.append(f"{alias}.budget_minor <= {self.p}")
            params.append(request.max_budget)
        if request.currency is not None:
            sql.append(f"{alias}.currency = {self.p}")
            params.append(request.currency)
        for skill in request.skills:
            if skill != skip_skill:
                # A scalar probe by primary key, run per row: Postgres turns an
                # EXISTS into a semi-join and may hash every posting of a popular
                # skill first (node + javascript at large: 98 ms instead of 0.8).
                sql.append(f"(SELECT 1 FROM job_skills AS o WHERE o.job_id = {job_id} "
                           f"AND o.skill = {self.p}) IS NOT NULL")
                params.append(skill)
        return sql, params

    @staticmethod
    def _page(rows: list[tuple], limit: int, key_of: Any) -> tuple[list[tuple], Any]:
        """The first ``limit`` rows and, if there are more, the next page's key."""
        if len(rows) > limit:
            return rows[:limit], key_of(rows[limit - 1])
        return rows, None

    def _rarest_skill(self, request: SearchRequest) -> tuple[str, int]:
        counts = self._stats()[0]
        driver = min(request.skills, key=lambda s: counts.get(s, 0))
        return driver, counts.get(driver, 0)

    def _jobs_sql(self, inner: str, with_key: bool) -> str:
        """The jobs of one page: ``inner`` selects (id[, k]) with its LIMIT; the job
        rows are read for those ids only."""
        key = ", page.k" if with_key else ""
        order = "page.k DESC, page.id DESC" if with_key else "page.id DESC"
        return (f"SELECT {self.columns}{key} FROM ({inner}) AS page JOIN jobs AS j "
                f"ON j.id = page.id ORDER BY {order}")

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
        return self._page(rows, request.limit, lambda r: [_key_time(r[8]), r[0]])

    def _skills_by_index(self, request: SearchRequest, driver: str, count: int) -> bool:
        """Two skills or more: sort the text index's intersection of them, or walk
        the rarest one's ``count`` postings newest first probing the others,
        whichever costs less for the matches expected (from the cached posting
        counts, as if independent). Few matches: the walk would probe every
        posting; many: it stops after a few, and sorting them all costs more."""
        if len(request.skills) < 2 or self.backend.skill_match_cost_us is None:
            return False
        counts, budgets = self._stats()
        open_jobs = max(len(budgets), 1)
        expected = float(count)
        for skill in request.skills:
            if skill != driver:
                expected *= counts.get(skill, 0) / open_jobs
        want = request.limit + 1
        probes = count if expected <= want else count * want / expected
        return (expected * self.backend.skill_match_cost_us
                < probes * self.backend.skill_probe_cost_us)

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

    def _open_in_range(self, request: SearchRequest) -> int:
        """About how many open jobs are in the request's budget range and
        currency (from the cached budgets)."""
        share = self._share_between(request.min_budget, request.max_budget, request.currency)
        return round(share * len(self._stats()[1]))

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
        if request.min_budget is not None:
            where.append(f"j.budget_minor >= {p}")
            params.append(request.min_budget)
        if request.max_budget is not None:
            where.append(f"j.budget_minor <= {p}")
            params.append(request.max_budget)
        return " AND ".join(where), params

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
            match, params = self.backend.skills_match(request.skills)
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

    def _search_text(self, request: SearchRequest, after: list[Any] | None
                     ) -> tuple[list[tuple], Any]:
        """Title matches first (tier 0), then the others (tier 1), newest first."""
        self._check_schema()
        skill_driven = False
        if request.skills:
            driver, count = self._rarest_skill(request)
            if count == 0 and self._stats_fresh():
                return [], None
            # Check every posting of a rare skill against the text, or walk the
            # text matches and probe the skills: whichever costs less (never the
            # former where the text index itself holds the skills).
            skill_driven = (not self.backend.text_index_has_skills and
                            count * self.backend.text_check_cost_us <= TEXT_CHECK_BUDGET_US)
        unordered = bool(self.backend.text_window_ids) and not skill_driven
        bounded = unordered and self._text_bound(request) <= TEXT_WINDOW_SKIP
        want = request.limit + 1
        tiers = (self.backend.text_search_tiers(request.text, request.skills) if bounded
                 else None)
        if tiers is not None:
            rows, tier_of = self._text_both_tiers(request, tiers, after, want)
        else:
            rows, tier_of = self._text_tier_by_tier(request, skill_driven and driver,
                                                    unordered, bounded,
                                                    self._facets(request),  # once per search
                                                    after, want)
        last = request.limit - 1
        return self._page(rows, request.limit, lambda row: [tier_of[last], row[0]])

    def _text_both_tiers(self, request: SearchRequest, tiers: Any, after: list[Any] | None,
                         want: int) -> tuple[list[tuple], list[int]]:
        """Few matches expected (bounded), and one index holds titles and the
        rest: one statement ranks title matches first (k = 1) and the others
        after, so a search with under a page of matches scans the index once,
        not once per tier. Returns the job rows and the tier of each."""
        p = self.p
        source, match, title_hit, hit_params, params = tiers
        # One unwindowed scan of matches that may be thousands (a popular word
        # and skills): the index narrows by every facet it holds, since each row
        # it passes costs a heap visit.
        everything = (request.currency, (request.min_budget, request.max_budget))
        where, params = self._text_where(request, match, params, "j.id", False, everything)
        inner = (f"SELECT CASE WHEN {title_hit} THEN 1 ELSE 0 END AS k, j.id AS id "
                 f"FROM {source} WHERE {where}")
        params = [*hit_params, *params]
        if after is not None:
            rank = 1 - after[0]
            inner = (f"SELECT m.k AS k, m.id AS id FROM ({inner}) AS m "
                     f"WHERE m.k < {p} OR (m.k = {p} AND m.id < {p})")
            params += [rank, rank, after[1]]
        rows = self.backend.fetch(
            self._jobs_sql(f"{inner} ORDER BY k DESC, id DESC LIMIT {p}", True),
            [*params, want], True)
        return [row[:-1] for row in rows], [1 - row[-1] for row in rows]

    def _text_tier_by_tier(self, request: SearchRequest, driver: str | bool, unordered: bool,
                           bounded: bool, facets: Facets, after: list[Any] | None,
                           want: int) -> tuple[list[tuple], list[int]]:
        """Title matches (tier 0), then the others (tier 1), each by the plans of
        ``_text_plans``, until ``want`` rows. Returns the job rows and the tier of
        each (the rows as fetched: no copy per row)."""
        start_tier = after[0] if after else 0
        newest: int | None = None
        collected: list[tuple] = []
        tier_of: list[int] = []
        for tier in (0, 1)[start_tier:]:
            below = after[1] if after is not None and tier == start_tier else None
            windows = None
            if unordered and bounded:
                windows = [(None, below)]
            elif unordered:
                if below is None and newest is None:
                    newest = self.rows(f"SELECT MAX(j.id) FROM jobs AS j WHERE {OPEN}", ())[0][0]
                windows = self._text_windows(below if below is not None else (newest or 0) + 1,
                                             collected, want)
            for sql, params, plan_each_time in self._text_plans(
                    request, tier == 0, driver, below, facets, windows):
                rows = self.backend.fetch(sql, [*params, want - len(collected)],
                                          plan_each_time)
                collected += rows
                tier_of += [tier] * len(rows)
                if len(collected) >= want:
                    break
            if len(collected) >= want:
                break
        return collected, tier_of

    def _check_schema(self) -> None:
        """Text search reads index structures that only the newest migrations
        build (an older one would match nothing, not fail): refuse instead."""
        if self._schema_checked:
            return
        pending = self.store.migrations.pending()
        if pending:
            raise SchemaOutOfDate(f"job search needs the newest schema; {len(pending)} "
                                  f"migration(s) pending ({pending[0]} first): run "
                                  "azora-store migrate up")
        self._schema_checked = True

    def _text_bound(self, request: SearchRequest) -> float:
        """About how many open jobs have the skills, budget and currency asked for
        (from the cached numbers, as if independent); the matches are fewer still."""
        low, high, currency = request.min_budget, request.max_budget, request.currency
        if not request.skills and low is None and high is None and currency is None:
            return float("inf")
        counts, budgets = self._stats()
        bound = float(len(budgets))
        for skill in request.skills:
            bound *= min(counts.get(skill, 0) / max(len(budgets), 1), 1.0)
        if low is not None or high is not None or currency is not None:
            bound *= self._share_between(low, high, currency)
        return bound

    def _text_windows(self, high: int, collected: list[tuple], want: int) -> Any:
        """Ids below ``high`` as (low, high) windows, newest first, each low a
        multiple of the backend's window unit, the last maybe (None, low): the
        rest. Each is drawn once the rows of the previous one are in
        ``collected`` (which holds ``want`` rows when done), sized by them."""
        unit = self.backend.text_window_ids
        first, blind, most = TEXT_WINDOWS
        before = len(collected)  # rows of an earlier tier
        if high <= 0:
            return
        low = max(((high - 1) // unit - (first - 1)) * unit, 0)
        yield low, high
        while low > 0:
            found = len(collected) - before
            if found:
                # As dense as seen so far: bounded windows, unless the rows still
                # wanted would take half of what is left anyway (then the rest
                # at once costs fewer statements than it reads extra rows).
                needed = (want - len(collected)) * (high - low) / found * TEXT_WINDOW_MARGIN
                units = -(-int(needed) // unit)
                units = most + 1 if units * unit >= low / 2 else min(units, most)
            else:
                units = blind if high - low <= first * unit else most + 1
            if units > most:
                yield None, low
                return
            yield max(low - units * unit, 0), low
            low = max(low - units * unit, 0)

    def _text_plans(self, request: SearchRequest, title_tier: bool, driver: str | bool,
                    below: int | None, facets: Facets,
                    windows: list[tuple[int | None, int | None]] | None = None) -> Any:
        """The statements that fill one tier, in order (each reads the jobs of
        the ids it selects; parameters but the LIMIT), each with whether to plan
        it for its values: driven by a rare skill's postings, or by the text
        index, whole or one window of ids at a time (whatever the plan, a window
        bounds the work: a generic plan saves planning)."""
        if windows is not None:
            for low, high in windows:
                inner, params, ident = self._text_by_index(
                    request, title_tier, facets, None if low is None else (low, high))
                if low is not None:
                    inner += f" AND {ident} >= {self.p}"
                    params = [*params, low]
                if high is not None:
                    inner += f" AND {ident} < {self.p}"
                    params = [*params, high]
                if low is None:
                    # The rest: few matches (sparse, or a rare skill's). Sort them;
                    # never let the planner walk the id index testing each row.
                    yield (self._jobs_sql(f"SELECT m.id FROM ({inner} OFFSET 0) AS m "
                                          f"ORDER BY m.id DESC LIMIT {self.p}", False),
                           params, True)
                else:
                    yield (self._jobs_sql(f"{inner} ORDER BY {ident} DESC LIMIT {self.p}",
                                          False), params, False)
            return
        paged = below is not None

        def make() -> tuple[str, list[Any]]:
            if driver:
                inner, params, ident = self._text_by_skill(request, driver, title_tier)
                # Postings joined to jobs: plain id order (text_order is the index's).
                order, below_cursor = f"{ident} DESC", f"{ident} < {self.p}"
            else:
                inner, params, ident = self._text_by_index(request, title_tier, facets)
                order, below_cursor = self.backend.text_order(ident)
            if paged:
                inner += f" AND {below_cursor}"
            return self._jobs_sql(f"{inner} ORDER BY {order} LIMIT {self.p}", False), params

        sql, params = self._statement(("text", request, title_tier, driver, facets, paged), make)
        yield sql, [*params, below] if paged else params, True

    def _text_by_index(self, request: SearchRequest, title_tier: bool, facets: Facets,
                       window: tuple[int, int] | None = None) -> tuple[str, list[Any], str]:
        """Driven by the full-text index: (inner SQL without ORDER/LIMIT, params, id)."""
        source, match, ident, params = self.backend.text_search(request.text, title_tier,
                                                                request.skills)
        where, params = self._text_where(request, match, params, ident, title_tier, facets,
                                         window)
        return f"SELECT {ident} AS id FROM {source} WHERE {where}", params, ident

    def _text_where(self, request: SearchRequest, match: str, params: list[Any], ident: str,
                    title_tier: bool, facets: Facets, window: tuple[int, int] | None = None
                    ) -> tuple[str, list[Any]]:
        """The text index's ``match``, narrowed inside the index by the facets
        (and a window of ids), the rest checked on the jobs row: the WHERE
        clause and all its parameters."""
        currency, budget = facets
        narrow, narrowed = self.backend.text_narrow(title_tier, currency, window, budget)
        checked = replace(request, skills=()) if self.backend.text_index_skills_exact else request
        filters, extra = self._filters(checked, "j", ident)
        where = [match, *([narrow] if narrow else []), OPEN, *filters]
        return " AND ".join(where), [*params, *narrowed, *extra]

    def _text_by_skill(self, request: SearchRequest, driver: str, title_tier: bool
                       ) -> tuple[str, list[Any], str]:
        """Driven by a rare skill's postings, each checked against the text."""
        check, check_params = self.backend.text_check(request.text, title_tier, "j.id")
        filters, extra = self._filters(request, "s", "s.job_id", skip_skill=driver)
        where = [f"s.skill = {self.p}", "s.open_created_at IS NOT NULL", *filters, check]
        return ("SELECT j.id AS id FROM job_skills AS s JOIN jobs AS j ON j.id = s.job_id "
                f"WHERE {' AND '.join(where)}", [driver, *extra, *check_params], "j.id")

    # -- plan numbers ----------------------------------------------------------------

    def _stats_fresh(self) -> bool:
        return time.monotonic() - self._stats_at < STATS_TTL

    def _stats(self) -> tuple[dict[str, int], list[int]]:
        """Open postings per skill and the sorted budgets of open jobs."""
        if not self._stats_fresh():
            with self._stats_lock:
                if not self._stats_fresh():
                    self._skill_counts = dict(self.rows(
                        "SELECT skill, COUNT(*) FROM job_skills WHERE open_created_at IS NOT NULL "
                        "GROUP BY skill", ()))
                    rows = self.rows(f"SELECT j.budget_minor, j.currency FROM jobs AS j "
                                     f"WHERE {OPEN}", ())
                    self._budgets = sorted(r[0] for r in rows)
                    by_currency: dict[str, list[int]] = {}
                    for budget, currency in rows:
                        by_currency.setdefault(currency, []).append(budget)
                    self._budgets_in = {c: sorted(b) for c, b in by_currency.items()}
                    self._stats_at = time.monotonic()
        return self._skill_counts, self._budgets

    def _share_between(self, low: int | None, high: int | None,
                       currency: str | None = None) -> float:
        """The share of open jobs with a budget in [low, high] (None: unbounded),
        in ``currency`` if given."""
        budgets = self._stats()[1]
        if not budgets:
            return 0.0
        among = budgets if currency is None else self._budgets_in.get(currency, [])
        first = bisect.bisect_left(among, low) if low else 0
        last = bisect.bisect_right(among, high) if high is not None else len(among)
        return max(last - first, 0) / len(budgets)

    def _facets(self, request: SearchRequest) -> Facets:
        """The currency and budget range to narrow the text index by, if the jobs
        they leave are few (the index holds currency, budget bucket and the pair
        of both). A facet many jobs share has a long posting list, which costs
        the index more to read than checking the rows costs."""
        low, high = request.min_budget, request.max_budget
        if not self.backend.text_index_budget:
            low = high = None
        span = (bucket_span(low, high) if low is not None and high is not None and high >= low
                else (None, None))
        if self._share_between(*span, request.currency) <= self.backend.text_facet_share:
            return request.currency, (low, high)
        return None, (None, None)


def _key_time(value: Any) -> str:
    """A sort-key timestamp as text, passed back as-is (SQLite compares the stored
    text, Postgres casts it to a timestamp)."""
    return value if isinstance(value, str) else value.isoformat(" ")

