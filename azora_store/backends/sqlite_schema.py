"""What ``doctor`` and the schema tests read from a SQLite database: the schema
(``sqlite_master`` and the table pragmas, normalised for comparison), the
pragmas that matter, query plans and cheap row estimates.
"""

from __future__ import annotations

import os
import re
import sqlite3
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ..errors import AzoraError

SYNCHRONOUS = {"0": "off", "1": "normal", "2": "full", "3": "extra"}  # PRAGMA's numbers


class SqliteIntrospection:
    """The introspection half of ``SqliteBackend`` (its ``_rows`` is the raw read the
other halves use too)."""

    db: Any
    path: str

    def _rows(self, sql: str, params: Sequence[Any] = ()) -> list[tuple]:
        return list(self.db.execute_sql(sql, params).fetchall())

    def schema_snapshot(self) -> dict[str, Any]:
        objects = self._rows("SELECT type, name, tbl_name, sql FROM sqlite_master "
                             "WHERE name NOT LIKE 'sqlite_%' ORDER BY type, name")
        snapshot: dict[str, Any] = {"tables": {}, "indexes": {}, "triggers": {}, "views": {}}
        for kind, name, table, sql in objects:
            if kind == "table":
                snapshot["tables"][name] = self._describe_table(name, sql or "")
            elif kind == "index" and sql:
                snapshot["indexes"][name] = (table, _normalise(sql))
            elif kind in ("trigger", "view"):
                snapshot[kind + "s"][name] = (table, _normalise(sql))
        return snapshot

    def _describe_table(self, table: str, sql: str) -> dict[str, Any]:
        columns = {name: {"type": ctype.upper(), "nullable": not notnull,
                          "default": default, "pk": pk}
                   for _, name, ctype, notnull, default, pk, _hidden
                   in self._rows(f'PRAGMA table_xinfo("{table}")')}
        fks = sorted((row[3], row[2], row[4], row[6]) for row in
                     self._rows(f'PRAGMA foreign_key_list("{table}")'))
        unique = sorted(
            tuple(r[2] for r in self._rows(f"PRAGMA index_info(\"{name}\")"))
            for _, name, is_unique, origin, _partial in
            self._rows(f'PRAGMA index_list("{table}")') if is_unique and origin != "c")
        return {"columns": columns, "foreign_keys": fks, "checks": _named_checks(sql),
                "implicit_unique": unique}

    setting_warnings = (
        ("journal_mode", ("wal",),
         "not the documented wal: readers and writers block each other (delete, truncate, "
         "persist) or a crash can corrupt the database (memory, off); use journal_mode=wal"),
        ("synchronous", ("full", "extra"),
         "weaker than the documented full: a committed transaction can be lost on power "
         "loss (normal) or on a crash of the machine (off)"),
        ("foreign_keys", ("1",), "foreign keys are not enforced"),
    )

    def settings(self) -> dict[str, str]:
        names = ("journal_mode", "synchronous", "foreign_keys", "busy_timeout", "cache_size",
                 "mmap_size", "page_size", "page_count", "freelist_count", "temp_store")
        values = {name: str(self.db.execute_sql(f"PRAGMA {name}").fetchone()[0])
                  for name in names}
        values["synchronous"] = SYNCHRONOUS.get(values["synchronous"], values["synchronous"])
        values["lock_type"] = "IMMEDIATE"
        values["file"] = os.path.abspath(self.path) if self.path != ":memory:" else ":memory:"
        return values

    def explain(self, sql: str, params: Sequence[Any] = ()) -> list[str]:
        rows = self._rows("EXPLAIN QUERY PLAN " + sql, params)
        depth: dict[int, int] = {0: 0}
        lines = []
        for node_id, parent, _, detail in rows:
            depth[node_id] = depth.get(parent, 0) + 1
            lines.append("  " * (depth[node_id] - 1) + detail)
        return lines

    def full_scans(self, sql: str, plan: list[str]) -> list[str]:
        # "SCAN j" with no USING clause reads the whole table; plans name the
        # alias, so map it back through the statement's FROM/JOIN clauses.
        aliases = {alias: table for table, alias in _TABLE_REFERENCE.findall(sql)}
        tables = {r[0] for r in self._rows("SELECT name FROM sqlite_master WHERE type = 'table'")}
        scanned = []
        for line in plan:
            found = _FULL_SCAN.match(line.strip())
            if found and aliases.get(found.group(1), found.group(1)) in tables:
                scanned.append(aliases.get(found.group(1), found.group(1)))
        return scanned

    def estimated_rows(self, table: str) -> int:
        try:  # the largest rowid: one b-tree descent
            return int(self._rows(f'SELECT MAX(rowid) FROM "{table}"')[0][0] or 0)
        except AzoraError:
            return int(self._rows(f'SELECT COUNT(*) FROM "{table}"')[0][0])

    def server_version(self) -> str:
        return sqlite3.sqlite_version

    def database_files(self) -> list[Path]:
        path = Path(self.path)
        return [p for p in (path, Path(f"{path}-wal")) if p.exists()]


_TABLE_REFERENCE = re.compile(r'(?:FROM|JOIN)\s+"?(\w+)"?\s+AS\s+"?(\w+)"?', re.IGNORECASE)


_FULL_SCAN = re.compile(r"^SCAN (\w+)$")


def _normalise(sql: str) -> str:
    return " ".join(sql.replace("IF NOT EXISTS ", "").split())


_CHECK_START = re.compile(r'CONSTRAINT\s+"?(\w+)"?\s+CHECK\s*\(', re.IGNORECASE)


def _named_checks(table_sql: str) -> dict[str, str]:
    """Named CHECK constraints of a CREATE TABLE statement (balanced parentheses)."""
    checks = {}
    for match in _CHECK_START.finditer(table_sql):
        depth, start = 1, match.end()
        position = start
        while depth and position < len(table_sql):
            depth += {"(": 1, ")": -1}.get(table_sql[position], 0)
            position += 1
        checks[match.group(1)] = " ".join(table_sql[start:position - 1].split())
    return checks
