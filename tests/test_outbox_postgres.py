"""The outbox on Postgres: leased rows found by primary key, and the workers'
own VACUUM (when dead rows pile up, with ANALYZE at most once every
``ANALYZE_EVERY`` seconds)."""

from __future__ import annotations

import pytest

from azora_store.backends import postgres


def test_completing_leased_events_probes_the_primary_key(store, backend_name: str) -> None:
    """Not the partial lease index, whose scan reads every PROCESSING row (all
    workers' batches in flight) to find the few being completed."""
    if backend_name != "postgresql":
        pytest.skip("a Postgres plan")
    store.sync.enqueue_many({"service": "search", "entity_type": "Job", "entity_id": n,
                             "operation": "UPDATE", "payload": {}} for n in range(300))
    store.db.execute_sql("ANALYZE service_sync")  # no PROCESSING row in the statistics
    held = [event.id for event in store.sync.claim("w", 300, 30.0)]
    sql, when = store.sync.sql, store.sync.sql.when
    for statement, params in ((sql.complete_sql, (when(None), when(None), "w", held[:10])),
                              (sql.renew_sql, (when(None), when(None), "w", held[:10])),
                              (sql.owned_sql, ("w", held[:10]))):
        plan = "\n".join(row[0] for row in store.db.execute_sql(
            "EXPLAIN " + statement, params).fetchall())
        assert "ix_service_sync_leases" not in plan, plan
    assert store.sync.complete("w", held[:10]) == held[:10]


def vacuums_and_analyzes(store) -> tuple[int, int]:
    return store.db.execute_sql(
        "SELECT vacuum_count, analyze_count FROM pg_stat_user_tables "
        "WHERE relname = 'service_sync'").fetchone()


def test_outbox_vacuum_analyzes_only_when_the_last_analyze_is_old(
        store, backend_name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    if backend_name != "postgresql":
        pytest.skip("SQLite's outbox needs no VACUUM")
    monkeypatch.setattr(postgres, "VACUUM_THRESHOLDS",
                        {"service_sync": 0, "sync_counter_deltas": 10**9})
    store.sync.enqueue("search", "Job", 1, "UPDATE", {})
    vacuums, analyzes = vacuums_and_analyzes(store)

    monkeypatch.setattr(postgres, "ANALYZE_EVERY", 0.0)
    assert store.backend.outbox_maintenance() == "vacuumed service_sync"
    assert vacuums_and_analyzes(store) == (vacuums + 1, analyzes + 1)

    monkeypatch.setattr(postgres, "ANALYZE_EVERY", 3600.0)
    assert store.backend.outbox_maintenance() == "vacuumed service_sync"
    assert vacuums_and_analyzes(store) == (vacuums + 2, analyzes + 1)
