"""Frozen migration SQL: the script splitter and the per-dialect files."""

from __future__ import annotations

import pytest

from azora_store.backends.base import MIGRATION_SQL, split_sql


def test_split_sql_keeps_trigger_and_function_bodies_whole():
    script = """
-- a comment; with a semicolon
CREATE TABLE t (id INTEGER, note TEXT DEFAULT 'a;b');

CREATE TRIGGER trg AFTER INSERT ON t
BEGIN
    UPDATE t SET note = 'x;' WHERE id = NEW.id;
    UPDATE t SET note = 'y' WHERE id = NEW.id;
END;
CREATE FUNCTION f() RETURNS trigger AS $$
BEGIN
    NEW.note := 'z';
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;
"""
    statements = split_sql(script)
    assert len(statements) == 3
    assert statements[0].startswith("-- a comment") and statements[0].endswith("'a;b');")
    assert statements[1].startswith("CREATE TRIGGER") and statements[1].endswith("END;")
    assert statements[2].startswith("CREATE FUNCTION") and "RETURN NEW;" in statements[2]


def test_split_sql_refuses_an_unfinished_statement():
    with pytest.raises(ValueError, match="ends inside a statement"):
        split_sql("CREATE TABLE t (id INTEGER);\nCREATE TABLE u (id")


def test_split_sql_ends_a_postgres_trigger_at_its_semicolon():
    script = """
CREATE TRIGGER trg AFTER INSERT ON t
FOR EACH ROW EXECUTE FUNCTION f();
CREATE TRIGGER trg2 AFTER DELETE ON t FOR EACH ROW WHEN (OLD.note <> 'x;')
EXECUTE FUNCTION f();
"""
    statements = split_sql(script, trigger_blocks=False)
    assert [s.split()[2] for s in statements] == ["trg", "trg2"]
    with pytest.raises(ValueError, match="ends inside a statement"):
        split_sql(script)  # SQLite's syntax: a trigger waits for its END


@pytest.mark.parametrize("dialect", ["sqlite", "postgresql"])
def test_every_frozen_script_parses(dialect):
    from azora_store.backends import backend_class

    blocks = backend_class(dialect).trigger_blocks
    for path in sorted((MIGRATION_SQL / dialect).glob("*.sql")):
        assert split_sql(path.read_text(encoding="utf-8"), blocks), path.name
