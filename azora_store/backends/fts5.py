"""SQLite's full-text index: FTS5 over a view of each OPEN job's title,
description and tokens (skills, currency, budget bucket, the pair of both).

FTS5 drives: it yields matches in rowid order and stops at the LIMIT, however
many documents match, and intersects the text with the skill and facet tokens
itself. The FTS rowid is minus the job id (migration 0013), so its forward
walk is newest first.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import lru_cache
from typing import Any

from playhouse.fts_parser import parse as parse_web_query

from ..search.facets import budget_buckets
from .fulltext import FullTextIndex, Match
from .stopwords import as_postgres_reads_it

# A skill as one full-text token ("react native" -> "sk_react_native", "c#" ->
# "sk_c_h"), computed the same way in SQL (the triggers of the frozen migrations
# 0005/0012/0013 under migrations/sql/sqlite/) and in Python (here).
_QUOTED = re.compile(r'"(?:[^"]|"")*"')
TOKEN_MAP = ((" ", "_"), ("#", "_h"), ("+", "_p"), (".", "_d"), ("-", "_m"), ("/", "_s"))


@lru_cache(maxsize=1024)
def fts_query(text: str) -> str:
    """Typed text as an FTS5 expression (parsed once per text: the parse cost
    more than a page of results). web_query makes any typed text a valid FTS5
    expression (quotes, -exclusion and OR work; never an SQL error)."""
    return parse_web_query(as_postgres_reads_it(text), [])


def excludes(query: str) -> bool:
    """Whether an FTS5 expression of ``fts_query`` excludes a term (NOT outside
    the quoted terms)."""
    return "NOT" in _QUOTED.sub(" ", query).split()


def skill_token(skill: str) -> str:
    for char, code in TOKEN_MAP:
        skill = skill.replace(char, code)
    return "sk_" + skill


class Fts5Index(FullTextIndex):
    """FTS5: ordered, stops at the LIMIT, holds skills and budget facets."""

    param = "?"
    check_cost_us = 450.0  # a correlated FTS5 MATCH on one rowid (measured)
    has_skills = True
    narrows_budget = True

    def query(self, text: str) -> str:
        return fts_query(text)

    def search(self, query: str, title_tier: bool, skills: Sequence[str] = ()) -> Match:
        words = f"{{title description}} : ({query})"
        if title_tier and not excludes(query):
            # Every term in the title implies every term in title or
            # description: one column filter, not two intersections (FTS5
            # walks the terms' doclists once instead of twice: a search of four
            # common words whose matches are sparse read 3.1 ms, now 1.9).
            expression = f"title : ({query})"
        elif title_tier:  # "a -b": b absent from the title may be in the description
            expression = f"({words}) AND title : ({query})"
        else:
            expression = f"({words}) NOT title : ({query})"
        for skill in skills:
            expression += ' AND skills : "' + skill_token(skill).replace('"', '""') + '"'
        return ("jobs_fts AS f JOIN jobs AS j ON j.id = -f.rowid", "jobs_fts MATCH ?", "j.id",
                [expression])

    def order(self, ident: str) -> tuple[str, str]:
        # For search's source only (its alias f; ident is then j.id). FTS5
        # walks a doclist backwards at about half its forward speed (an
        # all-filters search's scan: 4.3 ms descending, 2.3 ascending), so
        # newest first is ascending rowid. Both terms constrain the rowid
        # itself: FTS5 sees them.
        return "f.rowid", "f.rowid > -?"

    def check(self, query: str, title_tier: bool, job_id: str) -> tuple[str, list[Any]]:
        _, match, _, params = self.search(query, title_tier)
        return (f"EXISTS (SELECT 1 FROM jobs_fts WHERE {match} AND jobs_fts.rowid = -{job_id})",
                params)

    def narrow(self, title_tier: bool, currency: str | None, window: tuple[int, int] | None,
               budget: tuple[int | None, int | None] = (None, None)) -> tuple[str, list[Any]]:
        # FTS5 walks newest first, so no id windows; the facet tokens join the
        # text query as a second MATCH, which FTS5 intersects in the same scan.
        terms = []
        buckets = budget_buckets(*budget)
        if currency is not None and buckets:  # the pair: shorter doclists than either
            pairs = " OR ".join(f'"cb_{currency.lower()}_{b}"' for b in buckets)
            terms.append(f"skills : ({pairs})")
        elif currency is not None:
            terms.append(f'skills : "cu_{currency.lower()}"')
        elif buckets:
            terms.append("skills : (" + " OR ".join(f'"bu_{b}"' for b in buckets) + ")")
        if not terms:
            return "", []
        return "jobs_fts MATCH ?", [" AND ".join(terms)]
