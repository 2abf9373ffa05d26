"""Frozen migration SQL: the script splitter and the per-dialect files."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import pytest

from azora_store import open_store
from azora_store.backends.base import MIGRATION_SQL, split_sql
from azora_store.migrations import DIRECTORY


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


@pytest.mark.parametrize("dialect", ["sqlite", "postgresql"])
def test_every_frozen_script_parses(dialect):
    for path in sorted((MIGRATION_SQL / dialect).glob("*.sql")):
        text = path.read_text(encoding="utf-8")
        # A migration with nothing to do on a dialect says so in its file.
        assert split_sql(text) or "nothing to do" in text, path.name


def test_split_sql_ends_a_trigger_without_a_body_at_its_semicolon():
    """Postgres triggers call a function (no BEGIN ... END body)."""
    script = """
CREATE TRIGGER trg_a BEFORE UPDATE ON "t" FOR EACH ROW WHEN (NEW.x IS DISTINCT FROM OLD.x)
EXECUTE FUNCTION f('a;b');
CREATE TRIGGER trg_b AFTER INSERT ON t FOR EACH STATEMENT EXECUTE FUNCTION g();
"""
    statements = split_sql(script)
    assert len(statements) == 2
    assert statements[0].endswith("EXECUTE FUNCTION f('a;b');")
    assert statements[1].startswith("CREATE TRIGGER trg_b")


# -- the frozen files never change --------------------------------------------

SUMS = MIGRATION_SQL / "SHA256SUMS"
MIGRATION_FILES = sorted(Path(DIRECTORY).glob("[0-9][0-9][0-9][0-9]_*.py"))


def test_frozen_sql_files_are_unchanged():
    """Each file's checksum is committed when its migration is written; a new
    migration appends its lines (`sha256sum */NNNN_*.sql >> SHA256SUMS` in
    azora_store/migrations/sql). Editing an applied migration's SQL fails
    here: write a new migration instead."""
    listed = {}
    for line in SUMS.read_text(encoding="utf-8").splitlines():
        digest, name = line.split(maxsplit=1)
        listed[name] = digest
    found = {str(p.relative_to(MIGRATION_SQL)): p for p in MIGRATION_SQL.glob("*/*.sql")}
    assert sorted(found) == sorted(listed), "every frozen file has exactly one checksum line"
    for name, path in found.items():
        assert hashlib.sha256(path.read_bytes()).hexdigest() == listed[name], (
            f"{name} was edited: a released migration's SQL never changes")


def test_migrations_run_only_frozen_sql():
    """No migration asks the backend for DDL a live code path could change:
    dialect SQL comes from migration_sql, and both dialects have both files."""
    for path in MIGRATION_FILES:
        source = path.read_text(encoding="utf-8")
        calls = set(re.findall(r"db\.backend\.(\w+)", source))
        assert calls <= {"execute_script", "migration_sql"}, (path.name, calls)
        if "migration_sql" in calls:
            for dialect in ("sqlite", "postgresql"):
                for direction in ("up", "down"):
                    assert (MIGRATION_SQL / dialect / f"{path.stem}.{direction}.sql").exists()
    names = {path.stem for path in MIGRATION_FILES}
    for path in MIGRATION_SQL.glob("*/*.sql"):
        assert path.name.split(".")[0] in names, f"{path.name} belongs to no migration"


# -- one schema, however it was reached -----------------------------------------

def _schema(store) -> dict:
    snapshot = {kind: dict(objects) for kind, objects in store.backend.schema_snapshot().items()}
    snapshot["tables"].pop("schema_migration", None)
    snapshot["indexes"] = {name: index for name, index in snapshot["indexes"].items()
                           if index[0] != "schema_migration"}
    return snapshot


def test_step_by_step_equals_all_at_once(db_url: str, empty_url: str):
    """A database taken up one migration at a time, each one also reverted and
    applied again on the way, has the schema of one migrated in one run."""
    with open_store(db_url) as store:
        at_once = _schema(store)
    with open_store(empty_url) as store:
        migrations = store.migrations
        for name in [m.name for m in migrations.status()]:
            assert migrations.up(target=name) == [name]
            applied = _schema(store)
            migrations.down(steps=1)
            migrations.up(target=name)
            assert _schema(store) == applied, name
        assert not migrations.pending()
        assert _schema(store) == at_once


def test_a_backend_without_frozen_sql_says_what_to_do(tmp_path):
    from azora_store.backends.base import DatabaseURL
    from azora_store.backends.sqlite import SqliteBackend
    from azora_store.errors import ConfigurationError

    class Elsewhere(SqliteBackend):
        name = "elsewhere"
        migration_dialect = None

    backend = Elsewhere(DatabaseURL.parse(f"sqlite:///{tmp_path}/x.db"))
    with pytest.raises(ConfigurationError, match="migration_dialect or override migration_sql"):
        backend.migration_sql("0002_updated_at_triggers")
    backend.close()
