"""The dead-letter page (``sync failed``, ``GET /api/sync/failed``, the dashboard)
with 200,000 FAILED events, on a scratch database per backend: the first page,
pages deep in the list (``before`` drawn over the id range), one service's
pages, and an error-text filter that a quarter of the failures match. Each
is timed in turns with the raw driver running the same SQL. Issue 18's bar:
a page in at most 50 ms."""

from __future__ import annotations

import random
from collections.abc import Iterator
from contextlib import ExitStack
from typing import TYPE_CHECKING, Any

import pytest

from azora_store import open_store
from azora_store.search.plans import capture
from azora_store.support.clock import utcnow

if TYPE_CHECKING:
    from azora_store.store import Store

FAILED_EVENTS = 200_000
SERVICES = ("search", "billing", "mail", "analytics", "crm", "ledger", "webhooks", "audit")
ERRORS = ("HTTP 500 from upstream", "timeout after 5s", "connection refused",
          "HTTP 422: payload rejected")
PAGE = 50
DRAWS = 60


def _fill(store: Store, count: int) -> None:
    """``count`` FAILED events in one statement (services and errors cycle)."""
    now = utcnow().strftime("%Y-%m-%d %H:%M:%S")
    services = " ".join(f"WHEN {n} THEN '{s}'" for n, s in enumerate(SERVICES))
    errors = " ".join(f"WHEN {n} THEN '{e}'" for n, e in enumerate(ERRORS))
    series = store.backend.sql_series(1, count)
    payload = store.backend.sql_json("'{}'")
    with store.atomic():
        store.db.execute_sql(
            f"{series} INSERT INTO service_sync (service, entity_type, entity_id, operation, "
            "payload, status, ordering_key, blocked, attempts, max_attempts, available_at, "
            "last_error, created_at, updated_at) "
            f"SELECT CASE i % {len(SERVICES)} {services} END, 'Job', CAST(i AS TEXT), "
            f"'UPDATE', {payload}, 'FAILED', 'Job:' || CAST(i AS TEXT), false, 3, 3, "
            f"'{now}', 'RuntimeError: ' || CASE i % {len(ERRORS)} {errors} END "
            f"|| ' (event ' || CAST(i AS TEXT) || ')', '{now}', '{now}' FROM seq")
    store.db.execute_sql("ANALYZE")


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def failed_store(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
                 ) -> Iterator[Any]:
    with ExitStack() as cleanup:
        if request.param == "sqlite":
            url = f"sqlite:///{tmp_path_factory.mktemp('failed') / 'failed.db'}"
        else:  # a scratch database of this run, dropped after it
            url = cleanup.enter_context(request.getfixturevalue("pg_admin").scratch(
                "azora_bench_failed"))
        store = cleanup.enter_context(open_store(url))
        store.migrate()
        _fill(store, FAILED_EVENTS)
        assert store.sync.status().counts["FAILED"] == FAILED_EVENTS
        yield store


def _replays(store: Store, calls: list[Any]) -> list[Any]:
    backend, connection = store.backend, store.db.connection()

    def replay(call: Any) -> Any:
        statements = capture(store, call)
        return lambda: [backend.run_on(connection, sql, params, again)
                        for sql, params, again in statements]

    return [replay(call) for call in calls]


CASES = {
    "first": lambda rng: {},
    "deep": lambda rng: {"before": rng.randint(PAGE + 1, FAILED_EVENTS)},
    "service": lambda rng: {"service": rng.choice(SERVICES),
                            "before": rng.randint(PAGE * 10, FAILED_EVENTS)},
    "error": lambda rng: {"error": "TIMEOUT", "before": rng.randint(PAGE * 5, FAILED_EVENTS)},
}


@pytest.mark.parametrize("case", list(CASES))
def test_failed_page(measure, failed_store, case: str) -> None:
    rng = random.Random(18)
    calls = []
    for _ in range(DRAWS):
        kwargs = CASES[case](rng)

        def call(kwargs: dict[str, Any] = kwargs) -> Any:
            page = failed_store.sync.failed(limit=PAGE, **kwargs)
            assert len(page.items) == PAGE
            return page

        calls.append(call)
    measure(f"failed_page/{case}", calls, _replays(failed_store, calls), store=failed_store)
