"""Frozen migration SQL files, and splitting a script into statements.

``Backend.migration_sql`` reads ``migrations/sql/<dialect>/<name>.<up|down>.sql``
through ``split_sql``, which knows where a statement ends in both dialects
(quotes, comments, ``$$`` bodies, trigger ``BEGIN ... END`` blocks).
"""

from __future__ import annotations

import re
import sqlite3
from pathlib import Path

MIGRATION_SQL = Path(__file__).resolve().parent.parent / "migrations" / "sql"


_TRIGGER = re.compile(r"CREATE\s+(OR\s+REPLACE\s+)?(CONSTRAINT\s+)?TRIGGER\b", re.IGNORECASE)
_BEGIN = re.compile(r"\bBEGIN\b", re.IGNORECASE)


def _complete(text: str) -> bool:
    """Whether ``text`` is whole statements (SQLite's tokenizer: quotes,
    comments, trigger bodies). A trigger without a ``BEGIN`` body (Postgres:
    ``EXECUTE FUNCTION f()``) ends at its semicolon, where SQLite's tokenizer
    would wait for an ``END``."""
    code = "\n".join(line for line in text.splitlines()
                     if not line.lstrip().startswith("--")).strip()
    if _TRIGGER.match(code) and not _BEGIN.search(code):
        return sqlite3.complete_statement("SELECT " + text)
    return sqlite3.complete_statement(text)


def split_sql(script: str) -> list[str]:
    """Split a SQL script into statements: a statement ends at a line ending in
    ``;`` outside quotes, ``$$`` bodies and trigger ``BEGIN ... END`` blocks.
    Comment-only chunks are dropped."""
    statements: list[str] = []
    lines: list[str] = []
    for line in script.splitlines():
        lines.append(line)
        text = "\n".join(lines).strip()
        if text.endswith(";") and text.count("$$") % 2 == 0 and _complete(text):
            if any(not chunk.strip().startswith("--") and chunk.strip() for chunk in lines):
                statements.append(text)
            lines = []
    rest = "\n".join(lines).strip()
    if any(not chunk.strip().startswith("--") and chunk.strip() for chunk in lines):
        raise ValueError(f"SQL script ends inside a statement: {rest[:80]!r}")
    return statements
