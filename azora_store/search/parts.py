"""SQL pieces every job search plan shares: the filters checked per row, the
job rows of a page, the page's cut."""

from __future__ import annotations

from typing import Any

from .numbers import PlanNumbers
from .request import SearchRequest


class PlanParts(PlanNumbers):
    """Shared by the listing and the text plans (state on
    :class:`~azora_store.queries.Queries`: ``p``, ``columns``, ``backend``)."""

    p: str
    columns: str
    backend: Any
    _statement: Any

    def _budget_range(self, request: SearchRequest, alias: str) -> tuple[list[str], list[Any]]:
        """The budget bounds asked for, on ``alias``'s ``budget_minor``."""
        sql, params = [], []
        if request.min_budget is not None:
            sql.append(f"{alias}.budget_minor >= {self.p}")
            params.append(request.min_budget)
        if request.max_budget is not None:
            sql.append(f"{alias}.budget_minor <= {self.p}")
            params.append(request.max_budget)
        return sql, params

    def _filters(self, request: SearchRequest, alias: str, job_id: str,
                 skip_skill: str | None = None) -> tuple[list[str], list[Any]]:
        """Budget and currency (on ``alias``, a jobs row or a posting) and the skills
        other than ``skip_skill`` (by primary key of job_skills)."""
        sql, params = self._budget_range(request, alias)
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

    def _jobs_sql(self, inner: str, with_key: bool) -> str:
        """The jobs of one page: ``inner`` selects (id[, k]) with its LIMIT; the job
        rows are read for those ids only."""
        key = ", page.k" if with_key else ""
        order = "page.k DESC, page.id DESC" if with_key else "page.id DESC"
        return (f"SELECT {self.columns}{key} FROM ({inner}) AS page JOIN jobs AS j "
                f"ON j.id = page.id ORDER BY {order}")


def key_time(value: Any) -> str:
    """A sort-key timestamp as text, passed back as-is (SQLite compares the stored
    text, Postgres casts it to a timestamp)."""
    return value if isinstance(value, str) else value.isoformat(" ")
