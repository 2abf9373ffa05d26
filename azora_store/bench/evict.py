"""Drop one database's files from the OS page cache, and nothing else's.

A cold look-up must read its pages from the disk; dropping the whole
machine's cache (``echo 3 > /proc/sys/vm/drop_caches``) would also slow down
everyone else on a shared machine. ``posix_fadvise(POSIX_FADV_DONTNEED)`` on
the database's own files drops only their clean pages:

- SQLite: the database file and its WAL.
- PostgreSQL: the files of every table, index and TOAST relation of the
  current schema, found under ``data_directory`` (the server must run on
  this machine and its files be readable: root or the server's user).
  ``shared_buffers`` keeps what it holds: :func:`buffer_reads` tells how many
  of a run's block reads were served from it.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any


def database_files(store: Any) -> list[Path]:
    """The files holding ``store``'s database on this machine."""
    if store.backend.name == "sqlite":
        path = Path(store.backend.path)
        return [p for p in (path, Path(f"{path}-wal")) if p.exists()]
    data = store.db.execute_sql("SELECT current_setting('data_directory')").fetchone()[0]
    relations = store.db.execute_sql(
        "SELECT pg_relation_filepath(c.oid) FROM pg_class AS c "
        "WHERE c.relkind IN ('r', 'i', 't', 'm') AND c.relfilenode <> 0 AND "
        "(c.relnamespace = current_schema()::regnamespace OR c.relnamespace = "
        "'pg_toast'::regnamespace) AND pg_relation_filepath(c.oid) LIKE 'base/%'").fetchall()
    files: list[Path] = []
    for (relative,) in relations:
        first = Path(data) / relative
        files += [p for p in first.parent.glob(f"{first.name}*") if p.name == first.name
                  or p.name.startswith((f"{first.name}.", f"{first.name}_"))]
    return files


def evict(store: Any) -> dict[str, int]:
    """Drop the database's pages from the OS cache; the files and bytes advised."""
    count = size = 0
    for path in database_files(store):
        try:
            fd = os.open(path, os.O_RDONLY)
        except FileNotFoundError:  # a relation dropped meanwhile
            continue
        try:
            os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
            size += os.fstat(fd).st_size
            count += 1
        finally:
            os.close(fd)
    return {"files": count, "bytes": size}


def buffer_reads(store: Any) -> tuple[int, int] | None:
    """PostgreSQL: (blocks read from outside shared_buffers, blocks found in it)
    by this database so far; None on SQLite (no shared cache between calls)."""
    if store.backend.name == "sqlite":
        return None
    store.db.execute_sql("SELECT pg_stat_force_next_flush()")
    read, hit = store.db.execute_sql(
        "SELECT blks_read, blks_hit FROM pg_stat_database "
        "WHERE datname = current_database()").fetchone()
    return int(read), int(hit)
