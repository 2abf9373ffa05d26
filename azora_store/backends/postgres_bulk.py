"""Bulk loading into PostgreSQL (the seed generator): ``COPY``, secondary indexes
and user triggers off during the load and rebuilt after (the indexes of what
``alongside`` writes on a thread of their own), sequences moved past ids
written explicitly.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from ..support.threads import in_background


class PostgresBulkLoad:
    """The bulk-load half of ``PostgresBackend``."""

    db: Any

    if TYPE_CHECKING:  # PostgresIntrospection's
        def _rows(self, sql: str, params: Sequence[Any] = ()) -> list[tuple]: ...

    @contextmanager
    def bulk_load(self, tables: Sequence[str], keep_indexes: Sequence[str] = (),
                  alongside: Callable[[], None] | None = None,
                  alongside_tables: Sequence[str] = ()) -> Iterator[None]:
        self.db.connect(reuse_if_open=True)
        saved = self._rows(  # secondary indexes no constraint depends on
            "SELECT ci.relname, pg_get_indexdef(x.indexrelid), ct.relname FROM pg_index x "
            "JOIN pg_class ci ON ci.oid = x.indexrelid JOIN pg_class ct ON ct.oid = x.indrelid "
            "JOIN pg_namespace n ON n.oid = ct.relnamespace WHERE n.nspname = current_schema() "
            "AND ct.relname = ANY(%s) AND NOT x.indisprimary AND NOT EXISTS "
            "(SELECT 1 FROM pg_constraint c WHERE c.conindid = x.indexrelid)",
            ([t for t in tables if t not in keep_indexes],))
        for name, _, _ in saved:
            self.db.execute_sql(f'DROP INDEX "{name}"')
        superuser = self._rows("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")
        if superuser and superuser[0][0]:
            self.db.execute_sql("SET session_replication_role = replica")  # no FK/trigger work
        else:
            for table in tables:
                self.db.execute_sql(f'ALTER TABLE "{table}" DISABLE TRIGGER USER')
        self.db.execute_sql("SET synchronous_commit = off")
        self.db.execute_sql("SET maintenance_work_mem = '256MB'")
        loaded = False
        try:
            yield
            loaded = True
        finally:
            self.db.execute_sql("RESET session_replication_role")
            for table in tables:
                self.db.execute_sql(f'ALTER TABLE "{table}" ENABLE TRIGGER USER')
            # Its own connection (peewee's are per thread); the index builds
            # of what it writes would wait for its transaction anyway. Not
            # after a failed load: the rows are partial.
            wait = (in_background(alongside, then=self.db.close)
                    if alongside is not None and loaded else None)
            later = [definition for _, definition, table in saved
                     if wait is not None and table in alongside_tables]
            # Every index back and the session reset, whatever fails (the
            # callbacks run last first, each even if one before it raised).
            with contextlib.ExitStack() as cleanup:
                cleanup.callback(self.db.execute_sql, "RESET maintenance_work_mem")
                cleanup.callback(self.db.execute_sql, "RESET synchronous_commit")
                for definition in reversed(later):
                    cleanup.callback(self.db.execute_sql, definition)
                if wait is not None:
                    cleanup.callback(wait)
                for _, definition, _ in saved:
                    if definition not in later:
                        self.db.execute_sql(definition)
            for table in tables:  # vacuum sets the visibility map: index-only scans
                self.db.execute_sql(f'VACUUM (ANALYZE) "{table}"')

    def sql_series(self, first: int, last: int) -> str:
        return f"WITH seq(i) AS (SELECT generate_series({int(first)}::bigint, {int(last)}))"

    def reset_sequences(self, tables: Sequence[str]) -> None:
        for (table,) in self._rows(
                "SELECT c.table_name FROM information_schema.columns c WHERE c.table_schema = "
                "current_schema() AND c.column_name = 'id' AND c.column_default LIKE 'nextval%%' "
                "AND c.table_name = ANY(%s)", (list(tables),)):
            self.db.execute_sql(f"SELECT setval(pg_get_serial_sequence('\"{table}\"', 'id'), "
                                f'COALESCE((SELECT MAX(id) FROM "{table}"), 0) + 1, false)')

    def copy_rows(self, table: str, columns: Sequence[str], rows: Any) -> int:
        count = 0
        with self.db.atomic():
            cursor = self.db.cursor()
            with cursor.copy(f'COPY "{table}" ({", ".join(columns)}) FROM STDIN') as copy:
                for row in rows:
                    copy.write_row(row)
                    count += 1
        return count
