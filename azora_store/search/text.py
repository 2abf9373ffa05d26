"""Text search: title matches first, then the other matches, newest (highest
id) first within each, driven by the dialect's full-text index
(``Backend.fulltext``, :mod:`azora_store.backends.fulltext`), which also holds
each job's skills. The typed text is normalised once by the index
(``query``) and passed down to its SQL fragments.

An ordered index (FTS5) yields matches newest first and stops at the LIMIT.
An unordered one (GIN) yields them unordered, so each statement is confined to
a window of ids the index resolves itself (units of ``window_ids`` ids): the
newest two units, the next six, then the rest (only reached when matches are
sparse, so few); one statement when the skills and budget asked for leave few
open jobs (the cached numbers tell).
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from ..errors import SchemaOutOfDate
from .facets import bucket_span
from .numbers import OPEN
from .parts import PlanParts
from .request import SearchRequest

TEXT_CHECK_BUDGET_US = 5_000.0  # drive text search from a skill if checking it costs less
# Windows of ids over an unordered text index, in units of the index's size:
# the newest two; then as many as the density seen so far says the rows still
# wanted need (with a margin), at most 32 at a time; while nothing matched, six,
# then the rest of the ids at once (the matches are sparse).
TEXT_WINDOWS = (2, 6, 32)
TEXT_WINDOW_MARGIN = 1.5
TEXT_WINDOW_SKIP = 1_000  # no windows when skills and budget leave this many open jobs
# No windows when the text's terms are expected in this many open jobs (their
# shares multiplied as if independent: words that go together, a role and a
# task of a title, match more, hence a lower figure than for the cached counts).
TEXT_TERMS_SKIP = 250

#: What text search narrows its index by: (currency, (min budget, max budget)).
Facets = tuple[str | None, tuple[int | None, int | None]]


class TextPlans(PlanParts):
    """The text half of :class:`~azora_store.search.planner.SearchPlanner`."""

    store: Any
    _schema_checked: bool

    def _search_text(self, request: SearchRequest, after: list[Any] | None
                     ) -> tuple[list[tuple], Any]:
        """Title matches first (tier 0), then the others (tier 1), newest first."""
        self._check_schema()
        index = self.backend.fulltext
        query = index.query(request.text)  # the typed text, normalised once
        skill_driven = False
        if request.skills:
            driver, count = self._rarest_skill(request)
            if count == 0 and self._stats_fresh():
                return [], None
            # Check every posting of a rare skill against the text, or walk the
            # text matches and probe the skills: whichever costs less (never the
            # former where the text index itself holds the skills).
            skill_driven = (not index.has_skills and
                            count * index.check_cost_us <= TEXT_CHECK_BUDGET_US)
        unordered = bool(index.window_ids) and not skill_driven
        # Few matches expected (by the skills, budget and currency asked for,
        # or by the shares of the text's own terms): one statement over all ids.
        # Windows would each read the terms' posting lists to find nothing
        # (seven statements for a search of four common words with 66 matches).
        bounded = unordered and (
            self._text_bound(request) <= TEXT_WINDOW_SKIP
            or self._text_bound(request, self._query_shares(query)) <= TEXT_TERMS_SKIP)
        want = request.limit + 1
        tiers = index.search_tiers(query, request.skills) if bounded else None
        if tiers is not None:
            rows, tier_of = self._text_both_tiers(request, tiers, after, want)
        else:
            rows, tier_of = self._text_tier_by_tier(request, query, skill_driven and driver,
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

    def _text_tier_by_tier(self, request: SearchRequest, query: str, driver: str | bool,
                           unordered: bool,
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
                    request, query, tier == 0, driver, below, facets, windows):
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

    def _text_bound(self, request: SearchRequest, shares: list[float] | None = None) -> float:
        """About how many open jobs have the skills, budget and currency asked for
        (from the cached numbers, as if independent), and the terms whose
        ``shares`` are given; the matches are fewer still."""
        low, high, currency = request.min_budget, request.max_budget, request.currency
        if (not request.skills and low is None and high is None and currency is None
                and not shares):
            return float("inf")
        counts, budgets = self._stats()
        bound = float(len(budgets))
        for share in shares or ():
            bound *= share
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
        unit = self.backend.fulltext.window_ids
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

    def _text_plans(self, request: SearchRequest, query: str, title_tier: bool,
                    driver: str | bool,
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
                    request, query, title_tier, facets, None if low is None else (low, high))
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
                inner, params, ident = self._text_by_skill(request, query, driver, title_tier)
                # Postings joined to jobs: plain id order (fulltext.order is the index's).
                order, below_cursor = f"{ident} DESC", f"{ident} < {self.p}"
            else:
                inner, params, ident = self._text_by_index(request, query, title_tier, facets)
                order, below_cursor = self.backend.fulltext.order(ident)
            if paged:
                inner += f" AND {below_cursor}"
            return self._jobs_sql(f"{inner} ORDER BY {order} LIMIT {self.p}", False), params

        sql, params = self._statement(("text", request, title_tier, driver, facets, paged), make)
        yield sql, [*params, below] if paged else params, True

    def _text_by_index(self, request: SearchRequest, query: str, title_tier: bool,
                       facets: Facets,
                       window: tuple[int, int] | None = None) -> tuple[str, list[Any], str]:
        """Driven by the full-text index: (inner SQL without ORDER/LIMIT, params, id)."""
        source, match, ident, params = self.backend.fulltext.search(query, title_tier,
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
        index = self.backend.fulltext
        narrow, narrowed = index.narrow(title_tier, currency, window, budget)
        checked = replace(request, skills=()) if index.skills_exact else request
        filters, extra = self._filters(checked, "j", ident)
        where = [match, *([narrow] if narrow else []), OPEN, *filters]
        return " AND ".join(where), [*params, *narrowed, *extra]

    def _text_by_skill(self, request: SearchRequest, query: str, driver: str,
                       title_tier: bool) -> tuple[str, list[Any], str]:
        """Driven by a rare skill's postings, each checked against the text."""
        check, check_params = self.backend.fulltext.check(query, title_tier, "j.id")
        filters, extra = self._filters(request, "s", "s.job_id", skip_skill=driver)
        where = [f"s.skill = {self.p}", "s.open_created_at IS NOT NULL", *filters, check]
        return ("SELECT j.id AS id FROM job_skills AS s JOIN jobs AS j ON j.id = s.job_id "
                f"WHERE {' AND '.join(where)}", [driver, *extra, *check_params], "j.id")

    def _facets(self, request: SearchRequest) -> Facets:
        """The currency and budget range to narrow the text index by, if the jobs
        they leave are few (the index holds currency, budget bucket and the pair
        of both). A facet many jobs share has a long posting list, which costs
        the index more to read than checking the rows costs."""
        low, high = request.min_budget, request.max_budget
        index = self.backend.fulltext
        if not index.narrows_budget:
            low = high = None
        span = (bucket_span(low, high) if low is not None and high is not None and high >= low
                else (None, None))
        if self._share_between(*span, request.currency) <= index.facet_share:
            return request.currency, (low, high)
        return None, (None, None)

