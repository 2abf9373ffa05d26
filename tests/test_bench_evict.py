"""``cold_lookups --evict``: the database's own files, dropped from the OS cache."""

from __future__ import annotations

from pathlib import Path

from azora_store.bench.evict import evict
from azora_store.models import User


def test_evict_names_this_database_files_only(store) -> None:
    User.create(email="cold@example.org", full_name="Cold")
    files = store.backend.database_files()
    assert files and all(path.is_file() for path in files)
    if store.backend.name == "sqlite":
        assert files[0].resolve() == Path(store.backend.path).resolve()
        assert store.backend.buffer_reads() is None
    else:  # every file is under this database's directory of the data directory
        oid = store.db.execute_sql("SELECT oid FROM pg_database WHERE datname = "
                                   "current_database()").fetchone()[0]
        assert {path.parent.name for path in files} == {str(oid)}
        read, hit = store.backend.buffer_reads()
        assert read >= 0 and hit > 0
    done = evict(store)
    assert done["files"] == len(files) and done["bytes"] > 0
    assert User.get(User.email == "cold@example.org").full_name == "Cold"  # still readable
