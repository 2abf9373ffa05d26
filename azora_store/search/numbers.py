"""The numbers job search plans from (open postings per skill, budgets of
open jobs), read in one pass and reused for a few minutes, the way a search
engine caches its term statistics."""

from __future__ import annotations

import bisect
import time
from typing import Any

from .request import SearchRequest

STATS_TTL = 300.0  # seconds the plan numbers are reused
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

    def _rarest_skill(self, request: SearchRequest) -> tuple[str, int]:
        counts = self._stats()[0]
        driver = min(request.skills, key=lambda s: counts.get(s, 0))
        return driver, counts.get(driver, 0)

    def _open_in_range(self, request: SearchRequest) -> int:
        """About how many open jobs are in the request's budget range and
        currency (from the cached budgets)."""
        share = self._share_between(request.min_budget, request.max_budget, request.currency)
        return round(share * len(self._stats()[1]))

