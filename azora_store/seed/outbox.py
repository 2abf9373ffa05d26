"""The outbox events and their exact counters, built inside the database."""

from __future__ import annotations

import time
from datetime import timedelta
from typing import Any

from .common import (
    END,
    KINDS,
    OUTBOX_CHUNK,
)


class OutboxBuilder:
    """The outbox events and their exact counters, built inside the database.

    A part of :class:`~azora_store.seed.Seeder`: it
    reads the draws and settings the Seeder keeps (``self.np``, ``self.scale``...)."""

    def _outbox(self, backend: Any) -> None:
        """Ten events per job, generated inside the database by INSERT ... SELECT
        over a row series, a million per statement (Python would spend ~9 us a
        row building and binding 18 columns). Integer hashing of the row number
        picks the kind of event (entity, its id range, service) from a 1,000-row
        lookup table, and operation and status, identically on both backends;
        the newest 3% are unfinished. Timestamps come from a small lookup table
        too."""
        n, db = self.scale.outbox, backend.db
        started = time.perf_counter()
        self.report("service_sync", 0, n)
        per_stamp, window = 100, 60 * 86_400.0  # one timestamp per 100 events, last 60 days
        first = END - timedelta(seconds=window)
        step = window / max(n, 1) * per_stamp
        stamp_type = db.get_context_options()["field_types"]["DATETIME"]
        for table in ("seed_stamps", "seed_kinds"):
            db.execute_sql(f"DROP TABLE IF EXISTS {table}")
        db.execute_sql(f"CREATE TEMPORARY TABLE seed_stamps (k INTEGER PRIMARY KEY, "
                       f"created {stamp_type}, done {stamp_type})")
        db.execute_sql("CREATE TEMPORARY TABLE seed_kinds (k INTEGER PRIMARY KEY, entity TEXT, "
                       "ids INTEGER, even_service TEXT, odd_service TEXT)")
        stamps = [(k, backend.datetime_param(first + timedelta(seconds=k * step)),
                   backend.datetime_param(first + timedelta(seconds=k * step + 2.5)))
                  for k in range(n // per_stamp + 2)]
        backend.copy_rows("seed_stamps", ("k", "created", "done"), stamps)
        backend.copy_rows("seed_kinds", ("k", "entity", "ids", "even_service", "odd_service"),
                          [(k, *self._event_kind(k)) for k in range(KINDS)])
        salt = self.seed * 7919
        tail = f"((i * 7907 + {salt}) % 100)"
        number = f"(((i * 2654435761 + {salt}) % 1000003) % e.ids + 1)"
        operation = ("CASE WHEN i % 20 < 6 THEN 'CREATE' WHEN i % 20 < 18 THEN 'UPDATE' "
                     "WHEN i % 20 = 18 THEN 'DELETE' ELSE 'SYNC' END")
        finished = int(n * 0.97)
        status = (f"CASE WHEN i <= {finished} THEN 'COMPLETED' WHEN {tail} < 80 THEN 'PENDING' "
                  f"WHEN {tail} < 95 THEN 'FAILED' ELSE 'PROCESSING' END")
        payload = backend.sql_json(f"'{{\"id\":' || {number} || ',\"v\":' || (i % 7 + 1) || '}}'")
        service = "CASE WHEN i % 2 = 0 THEN e.even_service ELSE e.odd_service END"
        kind = f"JOIN seed_kinds AS e ON e.k = (i * 40503 + {salt}) % {KINDS}"
        sql = (
            "{series} INSERT INTO service_sync (id, service, entity_type, "
            "entity_id, operation, payload, status, ordering_key, blocked, attempts, "
            "max_attempts, available_at, lease_owner, lease_expires_at, last_error, "
            "created_at, updated_at, completed_at) "
            f"SELECT i, {service}, e.entity, CAST({number} AS TEXT), {operation}, {payload}, "
            f"{status}, e.entity || ':' || {number}, false, "
            f"CASE WHEN i <= {finished} THEN 1 WHEN {tail} < 80 THEN 0 WHEN {tail} < 95 "
            "THEN 3 ELSE 1 END, 3, s.created, "
            f"CASE WHEN i > {finished} AND {tail} >= 95 THEN 'seed:1:stale' END, "
            f"CASE WHEN i > {finished} AND {tail} >= 95 THEN s.created END, "
            f"CASE WHEN i > {finished} AND {tail} >= 80 AND {tail} < 95 "
            "THEN 'TimeoutError: the service did not answer' END, s.created, "
            f"CASE WHEN i <= {finished} THEN s.done ELSE s.created END, "
            f"CASE WHEN i <= {finished} THEN s.done END "
            f"FROM seq JOIN seed_stamps AS s ON s.k = i / {per_stamp} {kind}")
        for low, high in self._spans(n, OUTBOX_CHUNK):  # bounded transactions, progress
            if self.stop.is_set():  # the rest of the load failed: do not finish this
                return
            with db.atomic():
                db.execute_sql(sql.replace("{series}", backend.sql_series(low + 1, high)))
            self.report("service_sync", high, n)
        if n:
            with db.atomic():
                db.execute_sql(self._counters_sql(backend, service, status, kind, finished))
        for table in ("seed_stamps", "seed_kinds"):
            db.execute_sql(f"DROP TABLE {table}")
        self.summary.rows["service_sync"] = n
        self.summary.seconds["service_sync"] = time.perf_counter() - started

    def _counters_sql(self, backend: Any, service: str, status: str, kind: str,
                      finished: int) -> str:
        """The exact counters without reading the events back (a GROUP BY over
        10M rows took 6-10 s): service and status depend on the event number
        only through its remainder modulo K = ``KINDS`` and whether it is
        finished, so the same expressions over one representative per remainder,
        weighted by how many events of [low, high] share it, give the counts.
        #{x in [low, high] : x = r mod K} = (high + K - r) / K - (low - 1 + K - r) / K
        in integer division, r = x mod K (both operands are positive)."""
        k = KINDS
        after = (finished // k + 1) * k  # representatives above ``finished``
        parts = [f"SELECT {service} AS service, {status} AS status, "
                 f"(({high} + {k} - i % {k}) / {k} - ({low} - 1 + {k} - i % {k}) / {k}) AS n "
                 f"FROM (SELECT i + {offset} AS i FROM seq) AS x {kind}"
                 for low, high, offset in ((1, finished, 0), (finished + 1, self.scale.outbox,
                                                               after))
                 if high >= low]
        return (f"{backend.sql_series(1, KINDS)} INSERT INTO sync_counters (service, status, "
                f"count) SELECT service, status, SUM(n) FROM ({' UNION ALL '.join(parts)}) "
                "AS counted GROUP BY service, status HAVING SUM(n) > 0")

    def _event_kind(self, kind: int) -> tuple[str, int, str, str]:
        """Event kind 0-999 -> (entity, how many of it there are, the service of
        even and of odd events): 40% jobs, 30% applications, 15% users, 10%
        escrows, 5% KYC."""
        rows = self.counts
        if kind < 400:
            return "Job", self.scale.jobs, "search", "notifications"
        if kind < 700:
            return "Application", rows["applications"], "notifications", "notifications"
        if kind < 850:
            return "User", self.scale.users, "search", "crm"
        if kind < 950:
            return "Escrow", rows["escrows"], "billing", "billing"
        return "KYC", rows["kyc_verifications"], "compliance", "compliance"
