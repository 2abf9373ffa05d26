"""Drop one database's files from the OS page cache, and nothing else's.

A cold look-up must read its pages from the disk; dropping the whole
machine's cache (``echo 3 > /proc/sys/vm/drop_caches``) would also slow down
everyone else on a shared machine. ``posix_fadvise(POSIX_FADV_DONTNEED)`` on
the files the backend names (``Backend.database_files``: SQLite's file and
WAL; PostgreSQL's relation files under ``data_directory``, readable by root or
the server's user) drops only their clean pages. PostgreSQL's
``shared_buffers`` keeps what it holds: ``Backend.buffer_reads`` tells how
many of a run's block reads were served from it.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..store import Store


def evict(store: Store) -> dict[str, int]:
    """Drop the database's pages from the OS cache; the files and bytes advised."""
    count = size = 0
    for path in store.backend.database_files():
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
