"""Wake-ups for idle outbox workers: how each database says "something changed".

A worker that finds the outbox empty waits on one of these instead of
sleeping, so a committed event reaches it in about a millisecond while an
idle worker uses no CPU. ``wait`` may return True without new work (the
worker then probes, cheaply); it never misses a commit that happened after
the waiter was opened. Polling stays as the safety net for what no commit
announces (a retry's backoff running out, a lease expiring).

- ``Sleeper``: no signal at all, the plain bounded poll.
- ``PostgresListener``: ``LISTEN`` on a connection of its own; an insert into
  the outbox NOTIFYs from the inserting transaction (a statement trigger,
  migration 0018), delivered at commit, once per transaction.
- ``WalWatcher``: inotify on the directory of a SQLite database in WAL mode;
  every commit writes the ``-wal`` file. Blocks in ``select``: no CPU.
- ``DataVersionPoller``: where inotify is missing (macOS, BSD) or the journal
  is not a WAL, ``PRAGMA data_version`` on a connection of its own, a few
  microseconds a check, every few milliseconds.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import logging
import os
import select
import sqlite3
import struct
import threading
import time
from collections.abc import Callable
from typing import Any, Protocol

log = logging.getLogger("azora_store.sync")

#: Channel the outbox's insert trigger notifies (frozen in migration 0018).
OUTBOX_CHANNEL = "azora_outbox"
#: Longest single block, so a stop request is seen within this many seconds.
STOP_CHECK = 0.25
#: Seconds between ``data_version`` checks where nothing better exists.
POLL_INTERVAL = 0.005


class OutboxWaiter(Protocol):
    def wait(self, timeout: float, stop: threading.Event | None = None) -> bool:
        """Block until the outbox may have changed (True) or ``timeout`` seconds
        pass or ``stop`` is set (False)."""

    def close(self) -> None: ...


class Sleeper:
    """No change signal: wait out the timeout (or the stop request)."""

    def wait(self, timeout: float, stop: threading.Event | None = None) -> bool:
        if stop is not None:
            stop.wait(timeout)
        else:
            time.sleep(timeout)
        return False

    def close(self) -> None:
        pass


def _blocks(timeout: float, stop: threading.Event | None) -> Any:
    """Slices of at most STOP_CHECK seconds until ``timeout`` or ``stop``."""
    deadline = time.monotonic() + timeout
    while not (stop is not None and stop.is_set()):
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return
        yield min(remaining, STOP_CHECK)


class PostgresListener:
    """``LISTEN azora_outbox`` on a dedicated autocommit connection. A lost
    connection is reopened on the next wait (which then reports a possible
    change: notifications sent meanwhile are gone)."""

    def __init__(self, connect: Callable[[], Any]):
        self._connect = connect
        self._conn: Any = None
        self._open()

    def _open(self) -> bool:
        try:
            self._conn = self._connect()
            self._conn.execute(f"LISTEN {OUTBOX_CHANNEL}")
            return True
        except Exception as exc:  # the worker still polls; say why it is slower
            log.warning("outbox wake-ups unavailable, polling instead: %s", exc)
            self.close()
            return False

    def wait(self, timeout: float, stop: threading.Event | None = None) -> bool:
        if self._conn is None:
            if self._open():
                return True  # what was sent while we were away is lost: look
            return Sleeper().wait(timeout, stop)
        for block in _blocks(timeout, stop):
            try:
                if any(True for _ in self._conn.notifies(timeout=block, stop_after=1)):
                    for _ in self._conn.notifies(timeout=0):  # drain the rest
                        pass
                    return True
            except Exception as exc:
                log.warning("outbox wake-up connection lost (%s); reconnecting", exc)
                self.close()
                return True
        return False

    def close(self) -> None:
        if self._conn is not None:
            try:
                self._conn.close()
            finally:
                self._conn = None


# inotify(7) constants (Linux ABI).
_IN_MODIFY, _IN_IGNORED, _IN_Q_OVERFLOW = 0x2, 0x8000, 0x4000
_IN_NONBLOCK, _IN_CLOEXEC = os.O_NONBLOCK, getattr(os, "O_CLOEXEC", 0o2000000)
_EVENT = struct.Struct("iIII")  # wd, mask, cookie, name length


class DataVersion:
    """``PRAGMA data_version`` on a connection of its own: it changes whenever
    another connection commits to the database (a few microseconds a read)."""

    def __init__(self, path: str):
        self._conn = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._seen = self._read()

    def _read(self) -> int:
        return self._conn.execute("PRAGMA data_version").fetchall()[0][0]

    def changed(self) -> bool:
        """Whether a commit happened since the last call that said so."""
        version = self._read()
        if version == self._seen:
            return False
        self._seen = version
        return True

    def close(self) -> None:
        self._conn.close()


class WalWatcher:
    """inotify on ``<db>-wal`` for writes. The watcher's own connection keeps
    the WAL file in place (SQLite deletes it when the last connection closes;
    a checkpoint only truncates it). Watching the file, not its directory,
    keeps other files' writes (a busy /tmp) from waking the worker. A commit
    writes its frames before it is visible (the WAL index is updated after the
    sync), so a write is confirmed by ``data_version`` changing, polled for at
    most ``CONFIRM`` seconds; a write that no commit follows (a big transaction
    spilling pages) is ignored."""

    CONFIRM = 0.1
    CONFIRM_POLL = 0.0002

    def __init__(self, path: str):
        libc = ctypes.CDLL(ctypes.util.find_library("c") or None, use_errno=True)
        if not hasattr(libc, "inotify_init1"):
            raise OSError("inotify is not available on this system")
        self._fd = libc.inotify_init1(_IN_NONBLOCK | _IN_CLOEXEC)
        if self._fd < 0:
            raise OSError(ctypes.get_errno(), "inotify_init1 failed")
        self._version = DataVersion(path)  # opening it creates the WAL file
        self._lost = False
        wal = os.path.abspath(path) + "-wal"
        if libc.inotify_add_watch(self._fd, os.fsencode(wal), _IN_MODIFY) < 0:
            errno = ctypes.get_errno()
            self.close()
            raise OSError(errno, f"inotify cannot watch {wal}")

    def wait(self, timeout: float, stop: threading.Event | None = None) -> bool:
        if self._lost:
            return _poll(self._version, timeout, stop, POLL_INTERVAL)
        if self._version.changed():
            return True  # committed while the worker was busy
        for block in _blocks(timeout, stop):
            ready, _, _ = select.select([self._fd], [], [], block)
            if ready and self._written(os.read(self._fd, 65536)) and self._committed():
                return True
        return False

    def _committed(self) -> bool:
        deadline = time.monotonic() + self.CONFIRM
        while not self._version.changed():
            if time.monotonic() >= deadline:
                return False
            time.sleep(self.CONFIRM_POLL)
        return True

    def _written(self, data: bytes) -> bool:
        """Whether the events read include a write. After a lost watch (the WAL
        file deleted) or an overflowing queue, the watcher polls instead."""
        offset, written = 0, False
        while offset + _EVENT.size <= len(data):
            _, mask, _, length = _EVENT.unpack_from(data, offset)
            if mask & (_IN_IGNORED | _IN_Q_OVERFLOW) and not self._lost:
                log.warning("the WAL watch was lost; polling PRAGMA data_version instead")
                self._lost = written = True
            written = written or bool(mask & _IN_MODIFY)
            offset += _EVENT.size + length
        return written

    def close(self) -> None:
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1
        if hasattr(self, "_version"):
            self._version.close()


def _poll(version: DataVersion, timeout: float, stop: threading.Event | None,
          interval: float) -> bool:
    deadline = time.monotonic() + timeout
    while not version.changed():
        remaining = deadline - time.monotonic()
        if remaining <= 0 or (stop is not None and stop.is_set()):
            return False
        time.sleep(min(interval, remaining))
    return True


class DataVersionPoller:
    """Where inotify is missing or there is no WAL: ``data_version`` checked
    every ``interval`` seconds."""

    def __init__(self, path: str, interval: float = POLL_INTERVAL):
        self._version = DataVersion(path)
        self._interval = interval

    def wait(self, timeout: float, stop: threading.Event | None = None) -> bool:
        return _poll(self._version, timeout, stop, self._interval)

    def close(self) -> None:
        self._version.close()
