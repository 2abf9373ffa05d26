"""What ``doctor`` and the schema tests read from a PostgreSQL database: the schema
(catalogues, normalised for comparison), the settings that matter, plans,
row estimates, tables bigger than the cache and the server's other sessions.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any


class PostgresIntrospection:
    """The introspection half of ``PostgresBackend`` (its ``_rows`` is the raw read
the other halves use too)."""

    db: Any
    pool_size: int
    pool_timeout: float

    def _rows(self, sql: str, params: Sequence[Any] = ()) -> list[tuple]:
        return list(self.db.execute_sql(sql, params).fetchall())

    def schema_snapshot(self) -> dict[str, Any]:
        tables: dict[str, Any] = {}
        for table, column, dtype, length, nullable, default, generated in self._rows(
                "SELECT table_name, column_name, udt_name, character_maximum_length, "
                "is_nullable, column_default, generation_expression "
                "FROM information_schema.columns WHERE table_schema = current_schema() "
                "AND table_name IN (SELECT tablename FROM pg_tables "
                "WHERE schemaname = current_schema())"):
            entry = tables.setdefault(table, {"columns": {}, "constraints": {}})
            entry["columns"][column] = {
                "type": dtype + (f"({length})" if length else ""),
                "nullable": nullable == "YES", "default": default, "generated": generated}
        for table, name, definition in self._rows(
                "SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid) "
                "FROM pg_constraint WHERE connamespace = current_schema()::regnamespace "
                "AND conrelid <> 0"):
            tables.setdefault(table.strip('"'), {"columns": {}, "constraints": {}})[
                "constraints"][name] = definition
        return {
            "tables": tables,
            "indexes": {name: (table, definition) for table, name, definition in self._rows(
                "SELECT tablename, indexname, indexdef FROM pg_indexes "
                "WHERE schemaname = current_schema()")},
            "triggers": {name: (table.strip('"'), definition)
                         for table, name, definition in self._rows(
                "SELECT tgrelid::regclass::text, tgname, pg_get_triggerdef(oid) "
                "FROM pg_trigger WHERE NOT tgisinternal")},
            "views": {name: ("", " ".join(definition.split())) for name, definition in
                      self._rows("SELECT viewname, definition FROM pg_views "
                                 "WHERE schemaname = current_schema()")},
            "functions": {name: ("", definition) for name, definition in self._rows(
                "SELECT proname, pg_get_functiondef(oid) FROM pg_proc "
                "WHERE pronamespace = current_schema()::regnamespace")},
        }

    setting_warnings = (
        ("autovacuum", ("on",), "the outbox and other hot tables bloat without vacuum; turn "
                                "autovacuum on (or run VACUUM after `sync prune`)"),
        ("synchronous_commit", ("on", "remote_apply", "remote_write", "local"),
         "committed transactions can be lost on a crash"),
        # Set by every session the package opens: another value means something
        # between us and the server (a pooler) changed them.
        ("TimeZone", ("utc",), "sessions must run in UTC: timestamps are naive UTC"),
        ("max_parallel_workers_per_gather", ("0",),
         "parallel query adds start-up latency to the target queries' short index walks"),
    )

    def settings(self) -> dict[str, str]:
        names = ("server_version", "max_connections", "shared_buffers", "work_mem",
                 "effective_cache_size", "synchronous_commit", "autovacuum", "TimeZone",
                 "max_parallel_workers_per_gather", "default_transaction_isolation",
                 "statement_timeout")
        values = {name: str(self.db.execute_sql(f"SHOW {name}").fetchone()[0])
                  for name in names}
        values["pool"] = (f"max_connections={self.pool_size} per process, "
                          f"wait up to {self.pool_timeout:g}s")
        return values

    def explain(self, sql: str, params: Sequence[Any] = ()) -> list[str]:
        return [row[0] for row in self._rows("EXPLAIN " + sql, params)]

    def full_scans(self, sql: str, plan: list[str]) -> list[str]:
        return [m.group(1) for m in map(_SEQ_SCAN.search, plan) if m]

    def estimated_rows(self, table: str) -> int:
        rows = self._rows("SELECT GREATEST(reltuples, 0)::bigint FROM pg_class "
                          "WHERE oid = to_regclass(%s)", (table,))
        return int(rows[0][0]) if rows else 0

    def server_version(self) -> str:
        return str(self.db.execute_sql("SHOW server_version").fetchone()[0])

    def cache_warnings(self, tables: Sequence[str], cache_bytes: int | None = None
                       ) -> list[str]:
        if cache_bytes is None:
            cache_bytes = int(self._rows(
                "SELECT pg_size_bytes(current_setting('shared_buffers'))")[0][0])
        sizes = self._rows("SELECT t, pg_relation_size(to_regclass(t)) FROM unnest(%s::text[]) "
                           "AS t WHERE to_regclass(t) IS NOT NULL", (list(tables),))
        return [f"{table} is {size / 2**20:,.0f} MB, more than shared_buffers "
                f"({cache_bytes / 2**20:,.0f} MB): searches that visit many of its rows read "
                "them from outside PostgreSQL's cache (at 1M jobs that tripled the search p99 "
                "before migration 0014); raise shared_buffers (needs a server restart)"
                for table, size in sizes if size > cache_bytes]

    def server_pids(self) -> list[int]:
        return [row[0] for row in self._rows(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
            "AND pid <> pg_backend_pid()")]

    def database_files(self) -> list[Path]:
        """Every table, index and TOAST relation file of the current schema under
        ``data_directory`` (the server must run on this machine)."""
        data = Path(self._rows("SELECT current_setting('data_directory')")[0][0])
        relations = self._rows(
            "SELECT pg_relation_filepath(c.oid) FROM pg_class AS c "
            "WHERE c.relkind IN ('r', 'i', 't', 'm') AND c.relfilenode <> 0 AND "
            "(c.relnamespace = current_schema()::regnamespace OR c.relnamespace = "
            "'pg_toast'::regnamespace) AND pg_relation_filepath(c.oid) LIKE 'base/%'")
        files: list[Path] = []
        for (relative,) in relations:
            first = data / relative
            files += [p for p in first.parent.glob(f"{first.name}*") if p.name == first.name
                      or p.name.startswith((f"{first.name}.", f"{first.name}_"))]
        return files

    def buffer_reads(self) -> tuple[int, int] | None:
        self._rows("SELECT pg_stat_force_next_flush()")
        read, hit = self._rows("SELECT blks_read, blks_hit FROM pg_stat_database "
                               "WHERE datname = current_database()")[0]
        return int(read), int(hit)


_SEQ_SCAN = re.compile(r"Seq Scan on (\w+)")
