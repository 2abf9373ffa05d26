"""The SQL behind the four target queries and its plans (``azora-store doctor``).

``capture`` records the statements a call runs on the store's connection; the
benchmarks replay the same statements through the raw driver with it, and
``query_plans`` shows each statement's plan and flags any that read a big table
from end to end.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ..errors import AzoraError

if TYPE_CHECKING:
    from ..store import Store

BIG_TABLE_ROWS = 10_000  # a full scan of a table this large is worth a warning
ABSENT_SKILL = "autocad training"  # no seeded job has it

Statement = tuple[str, list[Any], bool]  # (sql, params, plan_each_time)


def capture(store: Store, call: Callable[[], Any]) -> list[Statement]:
    """The statements ``call`` runs through the backend, in order."""
    seen: list[Statement] = []
    backend, db = store.backend, store.db
    fetch, execute_sql = backend.fetch, db.execute_sql

    def spy_fetch(sql: str, params: Any, plan_each_time: bool = False) -> list[tuple]:
        seen.append((sql, list(params), plan_each_time))
        return fetch(sql, params, plan_each_time)

    def spy_execute(sql: str, params: Any = None) -> Any:
        seen.append((sql, list(params or ()), False))
        return execute_sql(sql, params)

    backend.fetch, db.execute_sql = spy_fetch, spy_execute
    try:
        call()
    except AzoraError:
        pass  # a NotFound still ran its statement: its plan is what we want
    finally:
        backend.fetch, db.execute_sql = fetch, execute_sql
    return seen


@dataclass
class QueryPlan:
    name: str  # e.g. "search_jobs(text+skill)"
    statements: list[tuple[str, list[str]]] = field(default_factory=list)  # (sql, plan)
    full_scans: list[tuple[str, int]] = field(default_factory=list)  # (table, rows)


def _samples(store: Store) -> dict[str, Any]:
    """Parameters taken from the data, so the plans are the ones real calls get."""
    def one(sql: str, default: Any) -> Any:
        row = store.db.execute_sql(sql).fetchone()
        return row[0] if row and row[0] is not None else default

    title = one("SELECT title FROM jobs WHERE status = 'OPEN' AND deleted_at IS NULL "
                "ORDER BY id DESC LIMIT 1", "developer")
    return {
        "skill": one("SELECT skill FROM job_skills WHERE open_created_at IS NOT NULL "
                     "ORDER BY job_id DESC LIMIT 1", "python"),
        "word": max(title.split(), key=len),
        "user": one("SELECT MIN(id) FROM users", 1),
        "kyc_user": one("SELECT MIN(user_id) FROM kyc_verifications", 1),
    }


def _calls(store: Store) -> list[tuple[str, Callable[[], Any]]]:
    q, s = store.queries, _samples(store)
    return [
        ("search_jobs(newest)", lambda: q.search_jobs()),
        ("search_jobs(skill)", lambda: q.search_jobs(skills=[s["skill"]])),
        ("search_jobs(budget)", lambda: q.search_jobs(min_budget="100", max_budget="150")),
        ("search_jobs(text)", lambda: q.search_jobs(text=s["word"])),
        ("search_jobs(text+skill)", lambda: q.search_jobs(text=s["word"], skills=[s["skill"]])),
        # The worst cases of the other statuses: a skill no job has (it used to
        # walk every job of the status) and a narrow budget range.
        *((f"search_jobs({status} + absent skill)",
           lambda status=status: q.search_jobs(skills=[ABSENT_SKILL], status=status))
          for status in ("IN_PROGRESS", "COMPLETED", "CANCELLED")),
        ("search_jobs(COMPLETED + budget)",
         lambda: q.search_jobs(status="COMPLETED", min_budget="100", max_budget="101")),
        ("user_stats", lambda: q.user_stats(s["user"])),
        ("sync_status", lambda: store.sync.status()),
        ("kyc_lookup(user)", lambda: q.kyc_lookup(user_id=s["kyc_user"])),
    ]


def query_plans(store: Store) -> list[QueryPlan]:
    """Each target query's statements with their plans and big full scans."""
    backend, plans = store.backend, []
    sizes: dict[str, int] = {}
    for name, call in _calls(store):
        capture(store, call)  # once to warm the plan numbers the query caches
        plan = QueryPlan(name)
        for sql, params, _ in capture(store, call):
            lines = backend.explain(sql, params)
            plan.statements.append((sql, lines))
            for table in backend.full_scans(sql, lines):
                if table not in sizes:
                    sizes[table] = backend.estimated_rows(table)
                if sizes[table] >= BIG_TABLE_ROWS:
                    plan.full_scans.append((table, sizes[table]))
        plans.append(plan)
    return plans


__all__ = ["BIG_TABLE_ROWS", "QueryPlan", "capture", "query_plans"]
