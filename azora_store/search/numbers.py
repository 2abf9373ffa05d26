"""The numbers job search plans from (open postings per skill, budgets of
open jobs), read in one pass and reused for a few minutes, the way a search
engine caches its term statistics."""

from __future__ import annotations

import bisect
import time
from typing import Any

from .request import SearchRequest

STATS_TTL = 300.0  # seconds the plan numbers are reused
QUERIES_KEPT = 4_096  # texts whose terms are remembered
OPEN = "j.status = 'OPEN' AND j.deleted_at IS NULL"


class PlanNumbers:
    """The cached plan numbers of a :class:`~azora_store.queries.Queries`
    (which holds their state: ``_skill_counts``, ``_budgets``, ``_budgets_in``,
    ``_stats_at``, ``_stats_lock``)."""

    rows: Any

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
                    self._load_term_shares()
                    self._stats_at = time.monotonic()
        return self._skill_counts, self._budgets

    def _load_term_shares(self) -> None:
        sql = self.backend.fulltext.term_shares_sql
        found = self.rows(sql, ()) if sql else []
        terms, shares = found[0] if found else (None, None)
        if terms and shares:
            self._term_shares = dict(zip(terms, shares[:len(terms)], strict=True))
            self._term_floor = min(self._term_shares.values())
        else:  # never analysed: no estimate (windows, as for any text)
            self._term_shares, self._term_floor = {}, 1.0

    def _query_shares(self, query: str) -> list[float]:
        """The share of open jobs holding each term of ``query`` (a term not
        among the common ones: at most the least common one's share); empty
        when the index keeps no such numbers or the query is not an AND of its
        terms."""
        index = self.backend.fulltext
        if index.terms_sql is None or not index.all_terms(query):
            return []
        self._stats()
        if not self._term_shares:
            return []
        terms = self._query_terms.get(query)
        if terms is None:
            if len(self._query_terms) >= QUERIES_KEPT:
                self._query_terms.clear()
            terms = self._query_terms[query] = list(self.rows(index.terms_sql, (query,))[0][0])
        return [self._term_shares.get(term, self._term_floor) for term in terms]

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

    def _rarest_skill(self, request: SearchRequest) -> tuple[str, int]:
        counts = self._stats()[0]
        driver = min(request.skills, key=lambda s: counts.get(s, 0))
        return driver, counts.get(driver, 0)

    def _open_in_range(self, request: SearchRequest) -> int:
        """About how many open jobs are in the request's budget range and
        currency (from the cached budgets)."""
        share = self._share_between(request.min_budget, request.max_budget, request.currency)
        return round(share * len(self._stats()[1]))

