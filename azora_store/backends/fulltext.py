"""The dialect's full-text index, as job search uses it: one strategy object
per backend (``Backend.fulltext``).

Everything job search needs to know about the index lives on one class per
dialect, the way peewee hangs feature flags on its database classes: the SQL
fragments (the match, the narrowing by facets and id windows, the order of
the walk, the per-row check) and the cost traits the planner weighs, as class
attributes. A search parameter walks down once: the planner normalises the
text through :meth:`FullTextIndex.query` and hands that query to the fragment
methods; nothing here calls back into the planner.

SQLite's is :class:`~azora_store.backends.fts5.Fts5Index`, Postgres'
:class:`~azora_store.backends.gin.GinIndex`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

#: (FROM clause giving jobs as ``j``, WHERE predicate, id expression, parameters)
Match = tuple[str, str, str, list[Any]]


class FullTextIndex:
    """The full-text index of OPEN jobs: titles, descriptions, each job's skills
    and facets (currency, budget bucket), kept by the dialect's triggers."""

    #: The SQL parameter placeholder of the dialect.
    param: ClassVar[str] = "?"

    # -- cost traits (what the planner weighs) ------------------------------------

    #: Roughly what testing one row against a text query costs (µs): job search
    #: drives from a rare skill's postings when checking them all is cheap.
    check_cost_us: ClassVar[float] = 5.0
    #: The index also holds each job's skills, so text + skills is one index
    #: intersection (job search then always drives from the text index).
    has_skills: ClassVar[bool] = False
    #: ``search`` matches the skills exactly (no stemming), so no per-skill
    #: check is added to it.
    skills_exact: ClassVar[bool] = False
    #: The index yields its matches in no useful order: job search then
    #: restricts each statement to a window of ids (``narrow``) of this many ids
    #: per unit, newest first, so that no statement visits more than a window of
    #: rows. 0: the index yields matches newest first and stops at the LIMIT.
    window_ids: ClassVar[int] = 0
    #: ``narrow`` can narrow by a budget range inside the index (budget bucket
    #: tokens); otherwise job search narrows by the currency alone.
    narrows_budget: ClassVar[bool] = False
    #: Narrow the index by a currency (and budget range, where it holds them)
    #: that leaves at most this share of open jobs. A facet many jobs share has
    #: a long posting list: reading it costs more than checking the rows.
    facet_share: ClassVar[float] = 0.10
    #: What sorting one match of ``skills_match`` by date costs (µs), and what
    #: probing one posting's other skills costs: job search reads whichever of
    #: the two costs less for the matches it expects. None: the index cannot
    #: intersect skills, and job search always walks a skill's postings.
    skill_match_cost_us: ClassVar[float | None] = None
    skill_probe_cost_us: ClassVar[float] = 2.0
    #: One row (terms, shares): the share of indexed (OPEN) jobs holding each
    #: common term, from the database's own statistics; job search multiplies
    #: a query's shares to expect how many jobs match it (a rare term's share is
    #: at most the least common term's listed). None: no such numbers, or no
    #: need (an ordered index stops at the LIMIT whatever the matches).
    term_shares_sql: ClassVar[str | None] = None
    #: One row holding the terms of a query (one parameter: the query), as the
    #: statistics name them.
    terms_sql: ClassVar[str | None] = None

    # -- SQL fragments ------------------------------------------------------------

    def query(self, text: str) -> str:
        """Typed text (any user input) as the query the fragments take: made
        safe and normalised once per search."""
        return text

    def all_terms(self, query: str) -> bool:
        """Whether ``query`` matches only jobs holding every one of its terms
        (no OR, no exclusion), so that its terms' shares bound its matches."""
        return False

    def search(self, query: str, title_tier: bool, skills: Sequence[str] = ()) -> Match:
        """How to find OPEN jobs matching ``query``: (FROM clause giving jobs as
        ``j``, WHERE predicate, the id expression to order and page by,
        parameters). ``title_tier`` selects jobs whose title matches all of it;
        otherwise the other matches. ``skills`` narrow it where the index holds
        them (``has_skills``)."""
        raise NotImplementedError

    def search_tiers(self, query: str, skills: Sequence[str] = ()
                     ) -> tuple[str, str, str, list[Any], list[Any]] | None:
        """Both tiers of ``search`` in one index scan, where the index of all the
        text holds the titles too: (FROM clause giving jobs as ``j``, WHERE
        predicate for every match, a condition true for title matches, the
        condition's parameters, the predicate's). None where it cannot: job
        search then runs a statement per tier."""
        return None

    def skills_match(self, skills: Sequence[str]) -> tuple[str, list[Any]]:
        """A predicate on OPEN ``jobs AS j`` true for the jobs holding every one
        of ``skills``, resolved by the index, and its parameters. Only called
        where ``skill_match_cost_us`` is set."""
        raise NotImplementedError

    def narrow(self, title_tier: bool, currency: str | None, window: tuple[int, int] | None,
               budget: tuple[int | None, int | None] = (None, None)) -> tuple[str, list[Any]]:
        """A predicate the index resolves itself, ANDed to ``search``'s: jobs in
        ``currency``, whose id lies in ``window`` ((low, high), low a multiple of
        ``window_ids``), whose budget bucket is one of the range's
        (``search.facets.budget_buckets``), each where given and held by the
        index. ("", []) where it holds none (the caller checks every filter on
        the jobs row anyway, so narrowing is only ever a superset)."""
        return "", []

    def order(self, ident: str) -> tuple[str, str]:
        """How ``search``'s matches are walked newest first: (the ORDER BY
        expression, the condition for ids below a cursor's, one parameter)."""
        return f"{ident} DESC", f"{ident} < {self.param}"

    def check(self, query: str, title_tier: bool, job_id: str) -> tuple[str, list[Any]]:
        """A predicate: does job ``job_id`` (an SQL expression) match ``query`` in
        the given tier? For plans driven by another index."""
        raise NotImplementedError
