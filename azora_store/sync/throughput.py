"""Completed events per minute: a small time series workers keep.

Each worker adds what it completed since its last housekeeping round to the
row of the current minute (one upsert a second at most) and drops rows older
than ``KEEP``; the dashboard reads the last hour's rows (at most 60). No
COUNT over the outbox, and pruning completed events never changes the chart.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from ..support.clock import utcnow

if TYPE_CHECKING:
    from ..store import Store

KEEP = timedelta(hours=2)


def minute_of(when: datetime) -> datetime:
    return when.replace(second=0, microsecond=0)


class Throughput:
    def __init__(self, store: Store):
        self.store = store
        self.backend = store.backend
        p = store.db.param
        self._add_sql = (
            f"INSERT INTO sync_throughput (minute, completed) VALUES ({p}, {p}) "
            "ON CONFLICT (minute) DO UPDATE SET completed = "
            "sync_throughput.completed + excluded.completed")
        self._prune_sql = f"DELETE FROM sync_throughput WHERE minute < {p}"
        self._read_sql = (f"SELECT minute, completed FROM sync_throughput WHERE minute >= {p} "
                          "ORDER BY minute")

    def add(self, completed: int, at: datetime | None = None) -> None:
        """Count ``completed`` events in the minute of ``at`` (default: now)."""
        if completed <= 0:
            return
        now = at or utcnow()
        param = self.backend.datetime_param
        with self.store.atomic():
            self.store.db.execute_sql(self._add_sql, (param(minute_of(now)), completed))
            self.store.db.execute_sql(self._prune_sql, (param(minute_of(now) - KEEP),))

    def last_hour(self, now: datetime | None = None) -> list[tuple[datetime, int]]:
        """(minute, completed) for each of the last 60 minutes, oldest first, the
        current minute last; minutes nobody recorded count 0."""
        end = minute_of(now or utcnow())
        start = end - timedelta(minutes=59)
        read = self.backend.read_datetime
        seen = {read(minute): count for minute, count in
                self.backend.fetch(self._read_sql, (self.backend.datetime_param(start),))}
        return [(start + timedelta(minutes=n), int(seen.get(start + timedelta(minutes=n), 0)))
                for n in range(60)]
