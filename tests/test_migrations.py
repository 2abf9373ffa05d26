"""Migrations go up and down, match the models, fail cleanly and run once."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from azora_store import open_store
from azora_store.errors import AzoraError
from azora_store.migrations import DIRECTORY, Migrations
from azora_store.models import TABLES
from tests.helpers import sql

HISTORY = "schema_migration"
MODEL_TABLES = {m._meta.table_name for m in TABLES}
# Objects the migrations add beyond what the models declare (dialect DDL).
NOT_IN_MODELS = {"columns": {("jobs", "search_vector"), ("jobs", "title_vector")},
                 "index_prefix": ("ix_jobs_search", "ix_jobs_title_search")}


def without_history(snapshot: dict) -> dict:
    trimmed = {kind: dict(objects) for kind, objects in snapshot.items()}
    trimmed["tables"].pop(HISTORY, None)
    for name, (table, _) in list(trimmed["indexes"].items()):
        if table == HISTORY:
            del trimmed["indexes"][name]
    return trimmed


def test_round_trip_leaves_the_same_schema(empty_url: str) -> None:
    with open_store(empty_url) as store:
        migrations = store.migrations
        assert migrations.up() == [m.name for m in migrations.status()]
        first = without_history(store.backend.schema_snapshot())
        assert set(first["tables"]) >= MODEL_TABLES
        assert first["triggers"] and first["views"]

        reverted = migrations.down(to="zero")
        assert reverted == list(reversed([m.name for m in migrations.status()]))
        empty = without_history(store.backend.schema_snapshot())
        assert not any(empty[kind] for kind in ("tables", "indexes", "triggers", "views"))
        assert not empty.get("functions")

        migrations.up()
        assert without_history(store.backend.schema_snapshot()) == first


def test_each_migration_reverts_exactly(empty_url: str) -> None:
    """Step up one migration at a time; each down() restores the step before."""
    with open_store(empty_url) as store:
        migrations = store.migrations
        names = [m.name for m in migrations.status()]
        for name in names:
            before = without_history(store.backend.schema_snapshot())
            migrations.up(target=name)
            migrations.down(steps=1)
            assert without_history(store.backend.schema_snapshot()) == before, name
            migrations.up(target=name)


def test_migrated_schema_matches_the_models(db_url: str, empty_url: str) -> None:
    """Drift test: columns (type, nullability), CHECKs, foreign keys and indexes of
    the migrated database equal those of a database created from the models."""
    with open_store(db_url) as store:
        migrated = model_part(store.backend.schema_snapshot())
    with open_store(empty_url) as store:
        store.db.create_tables(TABLES)
        declared = model_part(store.backend.schema_snapshot())
    assert migrated["tables"].keys() == declared["tables"].keys()
    for table in declared["tables"]:
        assert migrated["tables"][table] == declared["tables"][table], table
    assert migrated["indexes"] == declared["indexes"]


def model_part(snapshot: dict) -> dict:
    tables = {}
    for name, table in snapshot["tables"].items():
        if name not in MODEL_TABLES:
            continue
        table = dict(table)
        table["columns"] = {c: v for c, v in table["columns"].items()
                            if (name, c) not in NOT_IN_MODELS["columns"]}
        tables[name] = table
    indexes = {name: index for name, index in snapshot["indexes"].items()
               if index[0] in MODEL_TABLES and not name.startswith(NOT_IN_MODELS["index_prefix"])}
    return {"tables": tables, "indexes": indexes}


BROKEN = '''
from peewee import SQL

def up(migrator, db):
    db.execute_sql("CREATE TABLE half_done (id INTEGER PRIMARY KEY)")
    db.execute_sql("INSERT INTO users (email) VALUES ('oops')")  # violates NOT NULL


def down(migrator, db):
    db.execute_sql("DROP TABLE half_done")
'''


def test_failing_migration_leaves_previous_version_intact(empty_url: str, tmp_path) -> None:
    directory = tmp_path / "migrations"
    shutil.copytree(DIRECTORY, directory, ignore=shutil.ignore_patterns("__pycache__"))
    (directory / "0099_broken.py").write_text(BROKEN)
    with open_store(empty_url) as store:
        migrations = Migrations(store.backend, str(directory))
        with pytest.raises(AzoraError):
            migrations.up()
        applied = [m.name for m in migrations.status() if m.applied]
        assert applied == [p.stem for p in sorted(Path(DIRECTORY).glob("0*.py"))]
        assert migrations.pending() == ["0099_broken"]
        assert "half_done" not in store.backend.schema_snapshot()["tables"]
        assert sql(store, "SELECT COUNT(*) FROM users") == [(0,)]


@pytest.mark.slow
def test_two_concurrent_inits_apply_each_migration_once(empty_url: str) -> None:
    env = dict(os.environ, AZORA_DATABASE_URL=empty_url)
    command = [sys.executable, "-m", "azora_store", "init"]
    runners = [subprocess.Popen(command, env=env, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True) for _ in range(2)]
    outputs = [runner.communicate(timeout=120) for runner in runners]
    assert [runner.returncode for runner in runners] == [0, 0], outputs
    applied_lines = [line for _, err in outputs for line in err.splitlines()
                     if line.startswith("applied ")]
    names = sorted(p.stem for p in Path(DIRECTORY).glob("0*.py"))
    assert sorted(line.split()[1] for line in applied_lines) == names
    with open_store(empty_url) as store:
        rows = sql(store, f"SELECT name FROM {HISTORY} ORDER BY name")
    assert [row[0] for row in rows] == names
