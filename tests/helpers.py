"""Small helpers shared by the tests (raw SQL in either parameter style)."""

from __future__ import annotations

from typing import Any

from azora_store.store import Store


def sql(store: Store, statement: str, *params: Any) -> list[tuple]:
    """Run raw SQL written with ``?`` placeholders on either backend."""
    if store.db.param != "?":
        statement = statement.replace("?", store.db.param)
    cursor = store.db.execute_sql(statement, params)
    return list(cursor.fetchall()) if cursor.description else []


def dump(store: Store, table: str) -> list[tuple]:
    """Every row of ``table`` in a stable order: to prove nothing changed."""
    return sql(store, f'SELECT * FROM "{table}" ORDER BY 1')


def fingerprint(store: Store, tables: list[str]) -> dict[str, list[tuple]]:
    return {table: dump(store, table) for table in tables}
