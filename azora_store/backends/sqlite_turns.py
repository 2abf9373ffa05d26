"""Writers take turns at SQLite's one write lock, woken by the kernel in turn.

SQLite lets one connection write at a time, and a connection that finds the
lock taken can only sleep and try again. Against a producer committing a few
thousand times a second, the writer that happened to try in the gap between
two commits won, not the one that had waited longest: the outbox worker
waited up to 50-100 ms at a time for its claim (issue 19).

So every write transaction of the package first takes a *turn*: an
open-file-description lock (Linux ``F_OFD_SETLKW``) on byte 1 of a sidecar
file, ``<database>-lock``, held from ``BEGIN IMMEDIATE`` until ``COMMIT`` or
``ROLLBACK``. Waiters sleep in the kernel, and releasing the lock wakes one.
That alone is not fair: the writer that just released it takes it again
before the woken waiter is even running. So a waiter first *registers* (a
shared lock on byte 0) and a writer that finds someone registered lets them
go first (it waits for an exclusive lock on byte 0, which it gets once each
registered waiter has had its turn): waiting writers are served in rounds.

The kernel's wait has no timeout, so a contended wait runs on a helper thread
(one per connection, started at its first contended wait: handing a wait to
it costs ~10 us, starting a thread for each ~125 us) while the caller waits at
most its busy timeout; a helper whose caller gave up gives the turn back as
soon as it gets it, and ends. The kernel drops a dead process's locks, and
a forked child closes its copies of the parent's descriptors at once (a lock
lives as long as its last descriptor). Writers that take no turns (the
sqlite3 shell, another program, a DEFERRED transaction) still get SQLite's
lock the usual way.

Where open-file-description locks are missing (not Linux, a 32-bit build) or
the sidecar cannot be opened for writing (a read-only directory), there are
no turns: writers retry SQLite's lock as before.
"""

from __future__ import annotations

import contextlib
import errno
import logging
import os
import queue
import struct
import threading
import weakref

try:
    import fcntl
except ImportError:  # Windows: no turns
    fcntl = None  # type: ignore[assignment]

log = logging.getLogger("azora_store.backends")

#: Suffix of the sidecar file beside the database (like SQLite's -wal, -shm).
SUFFIX = "-lock"
_REGISTER, _TURN = 0, 1  # the bytes of the sidecar that are locked
# struct flock on 64-bit Linux: l_type, l_whence, l_start, l_len, l_pid (+ pad).
_FLOCK = struct.Struct("hhqqi4x")
AVAILABLE = fcntl is not None and hasattr(fcntl, "F_OFD_SETLKW") and struct.calcsize("P") == 8
_CONFLICT = (errno.EAGAIN, errno.EACCES)
#: Turns a writer that waited may take in a row before it yields to waiters again.
RUN = 2


def _lock(fd: int, kind: int, byte: int, wait: bool = False) -> bool:
    """Set (or with ``F_UNLCK`` clear) a lock on one byte; False if another
    holder's lock conflicts and ``wait`` is off."""
    command = fcntl.F_OFD_SETLKW if wait else fcntl.F_OFD_SETLK
    try:
        fcntl.fcntl(fd, command, _FLOCK.pack(kind, os.SEEK_SET, byte, 1, 0))
    except OSError as exc:
        if exc.errno in _CONFLICT and not wait:
            return False
        raise
    return True


def _release(fd: int) -> None:
    """Clear every lock this descriptor holds, then close it. (Closing alone
    would not release them while a forked child still holds a copy of the
    descriptor: an open file description's locks go with its last copy.)"""
    try:
        fcntl.fcntl(fd, fcntl.F_OFD_SETLK, _FLOCK.pack(fcntl.F_UNLCK, os.SEEK_SET, 0, 0, 0))
    finally:
        os.close(fd)


class _Wait:
    """One contended wait for a turn, on a helper thread."""

    def __init__(self, fd: int):
        self.fd = fd
        self._state = threading.Lock()
        self._done = threading.Event()
        self._abandoned = False
        self.failed: OSError | None = None

    def run(self) -> bool:
        """Wait for the turn; False if the caller gave up meanwhile."""
        fd = self.fd
        try:
            if not _lock(fd, fcntl.F_WRLCK, _REGISTER):
                _lock(fd, fcntl.F_WRLCK, _REGISTER, wait=True)  # registered ones first
            _lock(fd, fcntl.F_RDLCK, _REGISTER)  # register (a downgrade: never waits)
            _lock(fd, fcntl.F_WRLCK, _TURN, wait=True)
            _lock(fd, fcntl.F_UNLCK, _REGISTER)
        except OSError as exc:
            self.failed = exc
            _lock(fd, fcntl.F_UNLCK, _REGISTER)  # never left registered
        with self._state:  # the caller decides under the same lock (finished)
            if self._abandoned:
                _release(fd)  # gives back whatever it holds
                return False
            self._done.set()
        return True

    def finished(self, timeout: float) -> bool:
        """Whether the wait ended within ``timeout`` seconds; if not, the helper
        keeps the descriptor and closes it when its wait ends. Interrupted (a
        signal handler raising, KeyboardInterrupt), the wait counts as given up
        unless it had already ended."""
        try:
            self._done.wait(timeout)
        finally:
            with self._state:
                self._abandoned = not self._done.is_set()
        return not self._abandoned


def _serve(requests: queue.SimpleQueue[_Wait | None]) -> None:
    """A connection's helper: its contended waits, one at a time, until told
    to stop (None) or its caller gave up on a wait."""
    while (wait := requests.get()) is not None and wait.run():
        pass


_LIVE: weakref.WeakSet[WriterTurns] = weakref.WeakSet()


def _forget_in_child() -> None:
    """In a forked child, close the copies of the parent's descriptors (only
    close: clearing their locks would clear the parent's), so a child that
    outlives its parent does not keep the parent's turn held."""
    for turns in list(_LIVE):
        turns._forget_inherited()


class WriterTurns:
    """One connection's turns (one per connection: the locks of one open file
    description never conflict with each other)."""

    def __init__(self, path: str, mode: int = 0o644):
        self.path = path
        self._mode = mode
        self._fd: int | None = None
        self._pid = os.getpid()
        self._helper: queue.SimpleQueue[_Wait | None] | None = None
        self.held = False
        self._free_turns = 0  # turns it may still take without yielding (a run)
        _LIVE.add(self)
        self._descriptor()  # fail now (read-only place) rather than per transaction

    @classmethod
    def beside(cls, database: str) -> WriterTurns | None:
        """Turns for a database file, or None where there are none (see the
        module docstring)."""
        if not AVAILABLE or not database or database == ":memory:" or \
                database.startswith("file:"):
            return None
        path = os.path.realpath(database)  # one sidecar whatever symlink leads here
        try:
            mode = os.stat(path).st_mode & 0o666
        except OSError:
            mode = 0o644
        try:
            return cls(path + SUFFIX, mode)
        except OSError as exc:
            log.debug("no write turns for %s: %s", path, exc)
            return None

    def _forget_inherited(self) -> None:
        if self._fd is not None:
            with contextlib.suppress(OSError):
                os.close(self._fd)
        self._fd, self._helper, self.held, self._pid = None, None, False, os.getpid()

    def _descriptor(self) -> int:
        if self._pid != os.getpid():  # inherited across fork: the parent's locks
            self._forget_inherited()
        if self._fd is None:
            self._fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, self._mode)
        return self._fd

    def take(self, timeout: float) -> bool:
        """Wait at most ``timeout`` seconds for this connection's turn. False:
        other writers kept it that long. (A wait that fails for another
        reason is logged and lets the writer go on without a turn.)"""
        if self.held:
            return True
        fd = self._descriptor()
        if self._free_turns:  # a run of turns after a wait: no yielding
            self._free_turns -= 1
            if _lock(fd, fcntl.F_WRLCK, _TURN):
                self.held = True
                return True
        elif _lock(fd, fcntl.F_WRLCK, _REGISTER):  # nobody waiting: try at once
            self.held = _lock(fd, fcntl.F_WRLCK, _TURN)
            _lock(fd, fcntl.F_UNLCK, _REGISTER)
            if self.held:
                return True
        if timeout <= 0:
            return False  # no waiting at all: no helper to start and abandon
        waiting = _Wait(fd)
        if self._helper is None:
            self._helper = queue.SimpleQueue()
            threading.Thread(target=_serve, args=(self._helper,), name="azora-write-turn",
                             daemon=True).start()
        self._helper.put(waiting)
        try:
            ended = waiting.finished(timeout)
        except BaseException:  # interrupted: a turn that came is the caller's to give back
            if waiting.finished(0):
                self.held = True
            else:
                self._fd = self._helper = None
            raise
        if not ended:
            self._fd = self._helper = None  # the helper closes the descriptor, and ends
            return False
        if waiting.failed is not None:
            log.warning("waiting for a write turn on %s failed (%s); going on without",
                        self.path, waiting.failed)
            return True
        self.held = True
        self._free_turns = RUN - 1
        return True

    def give_back(self) -> None:
        """End this connection's turn (at COMMIT or ROLLBACK)."""
        if self.held:
            self.held = False
            if self._fd is not None and self._pid == os.getpid():
                _lock(self._fd, fcntl.F_UNLCK, _TURN)

    def close(self) -> None:
        """Give back the turn and the descriptor, and stop the helper."""
        if self._helper is not None:
            self._helper.put(None)
            self._helper = None
        self.held = False
        if self._fd is not None and self._pid == os.getpid():
            _release(self._fd)
        self._fd = None

    def __del__(self) -> None:
        self.close()


if AVAILABLE:
    os.register_at_fork(after_in_child=_forget_in_child)
