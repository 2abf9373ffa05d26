"""The worst searches: a rare or absent skill, or a narrow budget range, with
each status other than OPEN. Before migration 0016 these walked every job of
that status newest first, checking the skill on each: no table scan in the
plan (so the doctor's check passed), yet all the status' rows read. Here each
search's statements must read a bounded number of rows (EXPLAIN ANALYZE on
Postgres, SQLite's virtual machine steps), whatever the table size, and no
plan may scan a table end to end."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from azora_store import open_store
from azora_store.crypto import KEY_ENV, default_cipher, generate_key
from azora_store.queries import RANGE_SORT_CAP, search_jobs
from azora_store.search.plans import capture, query_plans
from azora_store.seed import Seeder
from tests.conftest import RUN_ID, PostgresServer

pytestmark = pytest.mark.slow
STATUSES = ("IN_PROGRESS", "COMPLETED", "CANCELLED")
# Rows (Postgres: summed over the plan's nodes, so a row passed up through
# three nodes counts thrice) or VM steps (SQLite) a statement may cost: a count
# up to the cap, whatever the table's size. The walks this replaced read every
# job of the status (12,000 COMPLETED at small).
MAX_ROWS, MAX_STEPS = 3 * RANGE_SORT_CAP, 10 * RANGE_SORT_CAP


@pytest.fixture(scope="module")
def small(tmp_path_factory: pytest.TempPathFactory, pg_server: PostgresServer
          ) -> Iterator[dict[str, str]]:
    """The small dataset (20k jobs) on each backend, seeded once per module."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv(KEY_ENV, generate_key())
        default_cipher.cache_clear()
        name = f"azora_worst_{RUN_ID}_{uuid.uuid4().hex[:6]}"
        urls = {"sqlite": f"sqlite:///{tmp_path_factory.mktemp('worst') / 'small.db'}",
                "postgresql": pg_server.create(name)}
        for url in urls.values():
            with open_store(url) as store:
                store.migrate()
                Seeder(store, "small", 3).run()
        default_cipher.cache_clear()
    yield urls
    pg_server.drop(name)


def _work(store: Any, sql: str, params: list[Any]) -> int:
    """Rows a statement's plan nodes returned or filtered out (Postgres), or
    the virtual machine steps it took (SQLite)."""
    if store.backend.name == "postgresql":
        plan = store.db.execute_sql("EXPLAIN (ANALYZE, FORMAT JSON) " + sql, params
                                    ).fetchone()[0]
        plan = plan if isinstance(plan, list) else __import__("json").loads(plan)

        def rows(node: dict) -> int:
            loops = node.get("Actual Loops", 1)
            own = (node.get("Actual Rows", 0) + node.get("Rows Removed by Filter", 0)
                   + node.get("Rows Removed by Index Recheck", 0)) * loops
            return own + sum(rows(child) for child in node.get("Plans", []))

        return rows(plan[0]["Plan"])
    steps = 0

    def count() -> int:
        nonlocal steps
        steps += 1
        return 0

    connection = store.db.connection()
    connection.set_progress_handler(count, 1)
    try:
        connection.execute(sql, params).fetchall()
    finally:
        connection.set_progress_handler(None, 1)
    return steps


def _requests() -> list[dict[str, Any]]:
    found = []
    for status in STATUSES:
        for skills in (["autocad training"], ["cobol"], ["autocad training", "python"]):
            found.append({"status": status, "skills": skills})
        found.append({"status": status, "min_budget": "123.01", "max_budget": "123.04"})
        found.append({"status": status, "skills": ["python"], "currency": "EGP",
                      "min_budget": "49000", "max_budget": "49010"})
    found.append({"currency": "EGP", "min_budget": "400", "max_budget": "900"})
    return found


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_worst_searches_read_few_rows(small: dict[str, str], backend: str) -> None:
    limit = MAX_ROWS if backend == "postgresql" else MAX_STEPS
    with open_store(small[backend]) as store:
        for request in _requests():
            for limit_ in (20, 100):
                call = lambda r=request, n=limit_: search_jobs(store, limit=n, **r)  # noqa: E731
                call()  # the plan numbers cached first, as a running service has them
                for sql, params, _ in capture(store, call):
                    plan = store.backend.explain(sql, params)
                    assert store.backend.full_scans(sql, plan) == [], (request, plan)
                    work = _work(store, sql, params)
                    assert work <= limit, (request, work, plan)


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_doctor_checks_every_status(small: dict[str, str], backend: str) -> None:
    with open_store(small[backend]) as store:
        plans = {plan.name: plan for plan in query_plans(store)}
    for status in STATUSES:
        plan = plans[f"search_jobs({status} + absent skill)"]
        assert plan.statements and not plan.full_scans, plan


def _expected(store: Any, request: dict[str, Any], count: int) -> list[int]:
    """The ids a search must return, by the plainest SQL (no plan choices)."""
    p = store.db.param
    where, params = ["status = " + p, "deleted_at IS NULL"], [request.get("status", "OPEN")]
    for field, op in (("min_budget", ">="), ("max_budget", "<=")):
        if field in request:
            where.append(f"budget_minor {op} {p}")
            params.append(round(float(request[field]) * 100))
    if "currency" in request:
        where.append(f"currency = {p}")
        params.append(request["currency"])
    for skill in request.get("skills", ()):
        where.append(f"EXISTS (SELECT 1 FROM job_skills AS s WHERE s.job_id = jobs.id "
                     f"AND s.skill = {p})")
        params.append(skill)
    sql = (f"SELECT id FROM jobs WHERE {' AND '.join(where)} "
           f"ORDER BY created_at DESC, id DESC LIMIT {count}")
    return [row[0] for row in store.db.execute_sql(sql, params).fetchall()]


EVERY_PLAN = [
    {"status": "COMPLETED", "skills": ["python"]},
    {"status": "CANCELLED", "skills": ["react", "python"], "currency": "USD"},
    {"status": "IN_PROGRESS", "min_budget": "100", "max_budget": "400"},
    {"status": "COMPLETED", "min_budget": "49000"},
    {"status": "COMPLETED", "skills": ["python"], "min_budget": "50", "max_budget": "60"},
    {"status": "COMPLETED", "currency": "EGP"},
    {"skills": ["python"], "min_budget": "50", "max_budget": "60"},
    {"min_budget": "100", "max_budget": "2000", "currency": "GHS"},
    {"min_budget": "100", "max_budget": "104"},
]


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_every_plan_pages_the_plain_answer(small: dict[str, str], backend: str) -> None:
    """Whichever plan a search gets (skill postings per status, a sorted range,
    a walk), its pages are the plain query's rows in order, and both backends
    agree (the datasets are the same seed)."""
    with open_store(small[backend]) as store:
        for request in EVERY_PLAN:
            found, cursor = [], None
            for _ in range(3):
                page = search_jobs(store, limit=20, cursor=cursor, **request)
                found += [hit.id for hit in page.items]
                cursor = page.next_cursor
                if cursor is None:
                    break
            assert found == _expected(store, request, len(found) if cursor else 10**9), request
            assert found or request.get("status") != "COMPLETED", request
