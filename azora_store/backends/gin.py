"""Postgres' full-text index: tsvector columns of each OPEN job (title, and
title + description) holding lexemes of its skills, currency, id window unit
and currency + budget bucket pair, under partial GIN indexes.

GIN yields matches unordered: job search confines each statement to a window
of ids the index resolves itself (``window_ids``), newest first.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from ..search.facets import budget_buckets
from .fulltext import FullTextIndex, Match

# Lexemes of what job search narrows by, added to an OPEN job's vectors: its
# skills, its currency and the window unit of its id. Each holds a space, which
# no word the parser emits ever does, so no typed text can match one.
SKILL_LEXEME, CURRENCY_LEXEME, WINDOW_LEXEME = "skill ", "currency ", "ids "
# Since migration 0014 also "budget <currency> <bucket>" (see search.facets).
BUDGET_PAIR_LEXEME = "budget "
TEXT_QUERY = "websearch_to_tsquery('english', %s)"  # any text a user types, safely
TEXT_WINDOW_SHIFT = 12  # 4,096 ids per window unit
_OPERATORS = re.compile(r'["\-]|\bor\b', re.IGNORECASE)


def skills_query(skills: Sequence[str]) -> str:
    """A tsquery matching vectors that hold every one of ``skills``."""
    return " & ".join(lexeme(SKILL_LEXEME + skill) for skill in skills)


def lexeme(value: str) -> str:
    """``value`` as one quoted lexeme of tsquery input (taken verbatim, not parsed)."""
    return "'" + value.replace("\\", "\\\\").replace("'", "''") + "'"


class GinIndex(FullTextIndex):
    """tsvector + GIN: unordered, windowed by id, skills matched exactly."""

    param = "%s"
    has_skills = True
    skills_exact = True
    window_ids = 1 << TEXT_WINDOW_SHIFT
    # Measured at large scale: narrowing by EUR (12% of open jobs) spared the
    # heap checks of thousands of text+skill candidates (all-filters p99 -3 ms).
    facet_share = 0.15
    # Measured at large scale: sorting a GIN intersection of two skills costs
    # ~3.5 us a match (3,205 matches: 11 ms); probing a posting's other skills
    # ~6 us (a subplan per row).
    skill_match_cost_us = 3.5
    skill_probe_cost_us = 6.0
    # ANALYZE keeps the most common lexemes of search_vector (non-null: OPEN
    # jobs only) with the share of rows holding each.
    term_shares_sql = ("SELECT most_common_elems::text::text[], most_common_elem_freqs "
                       "FROM pg_stats WHERE schemaname = current_schema() "
                       "AND tablename = 'jobs' AND attname = 'search_vector'")
    terms_sql = "SELECT ARRAY(SELECT lexeme FROM unnest(to_tsvector('english', %s)))"

    def all_terms(self, query: str) -> bool:
        # websearch_to_tsquery: "or" and "-" (exclusion, or a hyphenated word
        # parsed into several lexemes) and quotes (phrases) need its parser.
        return _OPERATORS.search(query) is None

    # The text is normalised by websearch_to_tsquery in SQL: query() keeps it.

    def search(self, query: str, title_tier: bool, skills: Sequence[str] = ()) -> Match:
        match, params = self._match("j.title_vector" if title_tier else "j.search_vector",
                                    query, skills)
        if not title_tier:
            match += f" AND NOT (j.title_vector @@ {TEXT_QUERY})"
            params.append(query)
        elif "-" in query:
            # "a -b": b absent from the title may be in the description, which
            # excludes the job from both tiers (as FTS5 and search_tiers read it).
            match += f" AND j.search_vector @@ {TEXT_QUERY}"
            params.append(query)
        return "jobs AS j", match, "j.id", params

    def search_tiers(self, query: str, skills: Sequence[str] = ()
                     ) -> tuple[str, str, str, list[Any], list[Any]]:
        # search_vector holds the title's lexemes too (weight A).
        match, params = self._match("j.search_vector", query, skills)
        return "jobs AS j", match, f"j.title_vector @@ {TEXT_QUERY}", [query], params

    @staticmethod
    def _match(column: str, query: str, skills: Sequence[str]) -> tuple[str, list[Any]]:
        # One GIN scan intersects the text with the skill lexemes. Separate @@
        # tests: a text of stop words only is an empty query, which must match
        # nothing (&& would make it match every job with the skills).
        match, params = f"{column} @@ {TEXT_QUERY}", [query]
        if skills:
            match += f" AND {column} @@ %s::tsquery"
            params.append(skills_query(skills))
        return match, params

    def skills_match(self, skills: Sequence[str]) -> tuple[str, list[Any]]:
        return "j.search_vector @@ %s::tsquery", [skills_query(skills)]

    def narrow(self, title_tier: bool, currency: str | None, window: tuple[int, int] | None,
               budget: tuple[int | None, int | None] = (None, None)) -> tuple[str, list[Any]]:
        # Budget pairs only where no id window narrows the scan (migration
        # 0014): per window they cost more than they save. A search with a
        # currency and a budget range ORs the range's pairs (at most 12) in its
        # one unwindowed GIN scan: heap visits of jobs out of range cost more
        # than the lists, once the jobs table outgrows shared_buffers (4,464
        # visits for 374 matches at large scale). Budget buckets alone (0012)
        # were measured and left out: ORing a range's buckets made each GIN
        # scan of a window of ids ~4x slower at large scale (2 ms instead of
        # 0.5), more than the heap checks of the budget they saved.
        terms = []
        buckets = budget_buckets(*budget) if window is None else None
        if currency is not None and buckets:
            terms.append("(" + " | ".join(lexeme(f"{BUDGET_PAIR_LEXEME}{currency} {b}")
                                          for b in buckets) + ")")
        elif currency is not None:
            terms.append(lexeme(CURRENCY_LEXEME + currency))
        if window is not None:
            low, high = window
            units = range((high - 1) >> TEXT_WINDOW_SHIFT, (low >> TEXT_WINDOW_SHIFT) - 1, -1)
            terms.append("(" + " | ".join(lexeme(f"{WINDOW_LEXEME}{unit}") for unit in units)
                         + ")")
        if not terms:
            return "", []
        column = "j.title_vector" if title_tier else "j.search_vector"
        return f"{column} @@ %s::tsquery", [" & ".join(terms)]

    def check(self, query: str, title_tier: bool, job_id: str) -> tuple[str, list[Any]]:
        _, match, _, params = self.search(query, title_tier)
        return match, params  # tested on the jobs row the plan already holds
