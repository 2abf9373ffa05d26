"""Every SQL statement of the outbox, written once.

The few places where dialects differ (parameter style, boolean literals that
must match the partial-index predicates, list parameters, ``FOR UPDATE SKIP
LOCKED``) come from the backend's fragment hooks, so this module never asks
which database it runs on. Statements are rendered once per store.

Each statement that changes state sets ``updated_at`` itself, which keeps the
``updated_at`` trigger from doing a second write per row.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from ..backends.base import Backend

UNFINISHED = "('PENDING', 'PROCESSING', 'FAILED')"
EVENT_COLUMNS = ("id", "service", "entity_type", "entity_id", "operation", "payload",
                 "attempts", "max_attempts", "ordering_key", "created_at")


def event_columns(alias: str) -> str:
    """The event columns, payload as text: decoding JSON only when a handler reads
    it saves ~20 us per event (drivers decode JSONB eagerly)."""
    return ", ".join(f"CAST({alias}.payload AS TEXT)" if column == "payload"
                     else f"{alias}.{column}" for column in EVENT_COLUMNS)


class OutboxStatements:
    def __init__(self, backend: Backend):
        self.backend = backend
        self.db = backend.db
        p = self.db.param
        true, false = "true", "false"  # as the partial-index predicates spell them
        has_earlier_unfinished = (
            "EXISTS (SELECT 1 FROM service_sync AS earlier "
            "WHERE earlier.ordering_key = {row}.ordering_key AND earlier.id < {row}.id "
            f"AND earlier.status IN {UNFINISHED})")
        returned = event_columns("service_sync")
        # Is any row blocked at all? (An uncorrelated subquery: evaluated once.)
        any_blocked = f"(SELECT COUNT(*) FROM (SELECT 1 FROM service_sync WHERE blocked = {true} " \
                      "LIMIT 1) AS one)"

        self.enqueue_sql = (
            "INSERT INTO service_sync (service, entity_type, entity_id, operation, payload, "
            "status, ordering_key, dedup_key, blocked, attempts, max_attempts, available_at, "
            f"created_at, updated_at) VALUES ({p}, {p}, {p}, {p}, {p}, 'PENDING', {p}, {p}, "
            f"{false}, 0, {p}, {p}, {p}, {p}) "
            "ON CONFLICT (dedup_key) WHERE dedup_key IS NOT NULL DO NOTHING RETURNING id")
        self.enqueue_many_prefix = (
            "INSERT INTO service_sync (service, entity_type, entity_id, operation, payload, "
            "ordering_key, dedup_key, max_attempts, available_at, created_at, updated_at, "
            "status, blocked, attempts) VALUES ")
        self.enqueue_many_suffix = (" ON CONFLICT (dedup_key) WHERE dedup_key IS NOT NULL "
                                    "DO NOTHING RETURNING id")
        self.by_dedup_sql = (f"SELECT {returned}, service_sync.status FROM service_sync "
                             f"WHERE dedup_key = {p}")

        # One statement claims the ready heads and marks the candidates that are
        # not heads as blocked (so later claims skip them without probing).
        self.claim_sql_template = (
            "WITH candidates AS ("
            " SELECT s.id AS id, " + has_earlier_unfinished.format(row="s") + " AS waiting"
            " FROM service_sync AS s"
            f" WHERE s.status = 'PENDING' AND s.blocked = {false} AND s.available_at <= {p}"
            " {service_filter}"
            f" ORDER BY s.available_at, s.id LIMIT {p}" + backend.row_lock("s") + ") "
            "UPDATE service_sync SET"
            " status = CASE WHEN candidates.waiting THEN 'PENDING' ELSE 'PROCESSING' END,"
            " blocked = candidates.waiting,"
            " attempts = CASE WHEN candidates.waiting THEN service_sync.attempts"
            " ELSE service_sync.attempts + 1 END,"
            f" lease_owner = CASE WHEN candidates.waiting THEN NULL ELSE {p} END,"
            f" lease_expires_at = CASE WHEN candidates.waiting THEN NULL ELSE {p} END,"
            f" updated_at = {p} "
            "FROM candidates WHERE service_sync.id = candidates.id "
            f"RETURNING {returned}, service_sync.status, {any_blocked}")
        self.claim_sql = self.claim_sql_template.format(service_filter="")
        self.claim_services_sql = self.claim_sql_template.format(
            service_filter="AND " + backend.sql_in("s.service"))

        # In-transaction delivery: the same candidates, marked COMPLETED at once
        # (rows stay locked until commit); handlers then run in the transaction
        # and only failures are put back. One row write per delivered event.
        self.take_sql_template = self.claim_sql_template.replace(
            " status = CASE WHEN candidates.waiting THEN 'PENDING' ELSE 'PROCESSING' END,",
            " status = CASE WHEN candidates.waiting THEN 'PENDING' ELSE 'COMPLETED' END,"
        ).replace(
            f" lease_owner = CASE WHEN candidates.waiting THEN NULL ELSE {p} END,"
            f" lease_expires_at = CASE WHEN candidates.waiting THEN NULL ELSE {p} END,",
            f" completed_at = CASE WHEN candidates.waiting THEN NULL ELSE {p} END,")
        self.take_sql = self.take_sql_template.format(service_filter="")
        self.take_services_sql = self.take_sql_template.format(
            service_filter="AND " + backend.sql_in("s.service"))
        self.any_ready_sql = (
            "SELECT 1 FROM service_sync WHERE status = 'PENDING' AND blocked = false "
            f"AND available_at <= {p} LIMIT 1")
        taken = "status = 'COMPLETED' AND " + backend.sql_in("id")
        self.untake_sql = (
            "UPDATE service_sync SET status = CASE WHEN attempts >= max_attempts "
            f"THEN 'FAILED' ELSE 'PENDING' END, completed_at = NULL, available_at = {p}, "
            f"last_error = {p}, updated_at = {p} "
            f"WHERE id = {p} AND status = 'COMPLETED' RETURNING status")
        self.lease_taken_sql = (
            "UPDATE service_sync SET status = 'PROCESSING', completed_at = NULL, "
            f"lease_owner = {p}, lease_expires_at = {p}, updated_at = {p} WHERE {taken}")

        # Leased rows named by id, found by primary key. The status test is
        # spelled IN with a value no row has (the status CHECK forbids it) so
        # that Postgres cannot prove the partial lease index's predicate and scan
        # it instead: that scan reads every PROCESSING row, the batches of all
        # workers in flight, and made completing 500 events 2x slower with 2,000
        # in flight (5.7 vs 2.9 ms; docs/performance.md, "To NATS from Postgres").
        owned = (f"status IN ('PROCESSING', '') AND lease_owner = {p} AND "
                 + backend.sql_in("id"))
        self.owned_sql = f"SELECT id FROM service_sync WHERE {owned}" + backend.row_lock_wait()
        self.complete_sql = (
            f"UPDATE service_sync SET status = 'COMPLETED', completed_at = {p}, "
            f"updated_at = {p}, lease_owner = NULL, lease_expires_at = NULL, last_error = NULL "
            f"WHERE {owned} RETURNING id, ordering_key")
        # One event (a --batch 1 round): a plain id match, not a list parameter
        # (SQLite's json_each cost 7 of the round's ~150 us).
        self.complete_one_sql = self.complete_sql.replace(backend.sql_in("id"), f"id = {p}")
        self.unblock_sql = (
            f"UPDATE service_sync SET blocked = {false}, updated_at = {p} "
            f"WHERE blocked = {true} AND " + backend.sql_in("ordering_key") +
            " AND NOT " + has_earlier_unfinished.format(row="service_sync"))
        self.fail_sql = (
            "UPDATE service_sync SET status = CASE WHEN attempts >= max_attempts "
            f"THEN 'FAILED' ELSE 'PENDING' END, available_at = {p}, last_error = {p}, "
            f"lease_owner = NULL, lease_expires_at = NULL, updated_at = {p} "
            f"WHERE id = {p} AND status = 'PROCESSING' AND lease_owner = {p} RETURNING status")
        self.release_sql = (
            "UPDATE service_sync SET status = 'PENDING', attempts = attempts - 1, "
            f"lease_owner = NULL, lease_expires_at = NULL, available_at = {p}, "
            f"updated_at = {p} WHERE {owned}")
        # Deferred (the sink is down): like a release, with the reason recorded.
        self.defer_sql = (
            "UPDATE service_sync SET status = 'PENDING', attempts = attempts - 1, "
            f"lease_owner = NULL, lease_expires_at = NULL, available_at = {p}, "
            f"last_error = {p}, updated_at = {p} WHERE {owned}")
        self.renew_sql = (f"UPDATE service_sync SET lease_expires_at = {p}, updated_at = {p} "
                          f"WHERE {owned} RETURNING id")
        # WHERE true: SQLite needs it to parse INSERT ... SELECT ... ON CONFLICT.
        self.consume_sql = (
            "INSERT INTO consumed_events (consumer, event_id, processed_at) "
            f"SELECT {p}, listed.value, {p} FROM ({backend.sql_list_values()}) AS listed "
            "WHERE true ON CONFLICT (consumer, source, event_id) DO NOTHING RETURNING event_id")
        # The same for events of another database (a broker consumer).
        self.consume_from_sql = (
            "INSERT INTO consumed_events (consumer, source, event_id, processed_at) "
            f"SELECT {p}, {p}, listed.value, {p} FROM ({backend.sql_list_values()}) AS listed "
            "WHERE true ON CONFLICT (consumer, source, event_id) DO NOTHING RETURNING event_id")
        self.rescue_sql = (
            "WITH expired AS (SELECT s.id AS id FROM service_sync AS s "
            f"WHERE s.status = 'PROCESSING' AND s.lease_expires_at < {p} "
            f"ORDER BY s.lease_expires_at LIMIT {p}" + backend.row_lock("s") + ") "
            "UPDATE service_sync SET status = CASE WHEN service_sync.attempts >= "
            "service_sync.max_attempts THEN 'FAILED' ELSE 'PENDING' END, "
            "last_error = 'lease expired: worker ' || COALESCE(service_sync.lease_owner, '?') "
            "|| ' stopped renewing it', lease_owner = NULL, lease_expires_at = NULL, "
            f"available_at = {p}, updated_at = {p} "
            "FROM expired WHERE service_sync.id = expired.id "
            "RETURNING service_sync.id, service_sync.status")
        self.sweep_sql = (
            f"UPDATE service_sync SET blocked = {false}, updated_at = {p} WHERE id IN ("
            f"SELECT s.id FROM service_sync AS s WHERE s.blocked = {true} AND NOT "
            + has_earlier_unfinished.format(row="s") + f" LIMIT {p})")
        self.retry_sql = ("UPDATE service_sync SET status = 'PENDING', attempts = 0, "
                          f"available_at = {p}, last_error = NULL, updated_at = {p} "
                          "WHERE status = 'FAILED'")
        self.prune_scan_sql = (
            "SELECT id, status, completed_at, created_at FROM service_sync "
            f"WHERE id > {p} ORDER BY id LIMIT {p}")
        self.delete_sql = ("DELETE FROM service_sync WHERE status = 'COMPLETED' AND "
                           + backend.sql_in("id"))
        # Counter rows, unfolded delta rows (flag 1) and the oldest pending
        # event's creation time, summed in Python: a few dozen rows, and no sort.
        # (The timestamp row comes first so Postgres types that column from it.)
        # (service, status, count, kind, oldest pending): kind 0 a counter row, 1 an
        # unfolded delta row, 2 the one row holding the oldest pending event's time.
        self.status_sql = (
            "SELECT NULL, NULL, NULL, 2, (SELECT created_at FROM service_sync "
            "WHERE status = 'PENDING' ORDER BY id LIMIT 1) "
            "UNION ALL SELECT service, status, count, 0, NULL FROM sync_counters "
            "UNION ALL SELECT service, status, delta, 1, NULL FROM sync_counter_deltas")
        self.count_sql = "SELECT service, status, COUNT(*) FROM service_sync GROUP BY 1, 2"

    # -- execution helpers ------------------------------------------------------

    def rows(self, sql: str, params: Sequence[Any] = ()) -> list[tuple]:
        return list(self.db.execute_sql(sql, params).fetchall())

    def fast_rows(self, sql: str, params: Sequence[Any] = ()) -> list[tuple]:
        """``rows`` straight through the driver (the backend's ``fetch``), for the
        statements of every worker round (claim, take, complete): peewee's
        logging, hooks and wrappers were about a tenth of a one-event round.
        Meant for use inside a transaction, where peewee's Postgres path would
        not reconnect either."""
        return self.backend.fetch(sql, params)

    def run(self, sql: str, params: Sequence[Any] = ()) -> int:
        return self.db.execute_sql(sql, params).rowcount

    def ids(self, values: Sequence[Any]) -> Any:
        return self.backend.list_param(values)

    def when(self, value: datetime | None) -> Any:
        return self.backend.datetime_param(value)
