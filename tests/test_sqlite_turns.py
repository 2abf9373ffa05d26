"""SQLite writers take turns at the write lock (``backends/sqlite_turns.py``):
the turn is held from BEGIN IMMEDIATE to COMMIT/ROLLBACK, a writer that just
released it lets a waiting one go first, a turn held past the busy timeout is
still the package's DatabaseBusy with nothing written, and where there can be
no turns (``:memory:``, a sidecar that cannot be opened) writers go on as before."""

from __future__ import annotations

import os
import threading

import pytest

from azora_store import open_store
from azora_store.backends import sqlite_turns
from azora_store.backends.sqlite_turns import SUFFIX, WriterTurns
from azora_store.errors import DatabaseBusy

pytestmark = pytest.mark.skipif(not sqlite_turns.AVAILABLE,
                                reason="no open-file-description locks here")


@pytest.fixture
def db_path(tmp_path, sqlite_template) -> str:
    import shutil

    path = tmp_path / "turns.db"
    shutil.copyfile(sqlite_template, path)
    return str(path)


def test_a_write_transaction_holds_the_turn_until_commit_or_rollback(db_path) -> None:
    other = WriterTurns.beside(db_path)
    assert other is not None
    with open_store(f"sqlite:///{db_path}") as store:
        with store.atomic():
            store.sync.enqueue("turns", "Job", 1, "UPDATE", {})
            assert not other.take(0.05), "a second writer got the turn mid-transaction"
        assert other.take(0.05)
        other.give_back()
        with pytest.raises(RuntimeError), store.atomic():
            store.sync.enqueue("turns", "Job", 2, "UPDATE", {})
            assert not other.take(0.05)
            raise RuntimeError("roll back")
        assert other.take(0.05)
        other.give_back()
    other.close()
    beside = set(os.listdir(os.path.dirname(db_path))) - {"turns.db", "turns.db-wal",
                                                            "turns.db-shm"}
    assert beside == {"turns.db" + SUFFIX}


def test_a_writer_that_just_released_lets_a_waiting_one_go_first(db_path) -> None:
    """Without the registration the releasing writer, already running, would
    take the lock back before the woken waiter runs (a busy producer starved
    the outbox worker that way)."""
    first, second = WriterTurns.beside(db_path), WriterTurns.beside(db_path)
    assert first is not None and second is not None
    order: list[str] = []
    assert first.take(1.0)
    waiter = threading.Thread(target=lambda: (second.take(10.0), order.append("waiter"),
                                              second.give_back()))
    waiter.start()
    probe = os.open(db_path + SUFFIX, os.O_RDWR)
    try:  # until the waiter has registered (byte 0 shared-locked)
        while sqlite_turns._lock(probe, sqlite_turns.fcntl.F_WRLCK, 0):
            sqlite_turns._lock(probe, sqlite_turns.fcntl.F_UNLCK, 0)
            threading.Event().wait(0.001)
    finally:
        os.close(probe)
    first.give_back()
    assert first.take(10.0)  # at once again: only after the waiter's turn
    order.append("releaser")
    first.give_back()
    waiter.join(10)
    assert order == ["waiter", "releaser"]
    first.close()
    second.close()


def test_a_turn_held_past_the_busy_timeout_is_busy_and_writes_nothing(db_path) -> None:
    """Another package writer keeps its transaction open: a writer with a short
    busy timeout gives up with DatabaseBusy, nothing written; its helper
    gives the turn back once it gets it, so the next writer is not stuck."""
    with open_store(f"sqlite:///{db_path}") as holder, \
            open_store(f"sqlite:///{db_path}?busy_timeout=200") as other:
        with holder.atomic():
            holder.sync.enqueue("held", "Job", 1, "UPDATE", {})
            with pytest.raises(DatabaseBusy), other.atomic():
                other.sync.enqueue("busy", "Job", 1, "UPDATE", {})
        with other.atomic():  # the abandoned wait did not keep the turn
            other.sync.enqueue("after", "Job", 1, "UPDATE", {})
        counted = holder.sync.counted()
        assert counted.get(("busy", "PENDING")) is None
        assert counted.get(("held", "PENDING")) == 1 and counted.get(("after", "PENDING")) == 1


def test_no_turns_in_memory_or_without_a_usable_sidecar(db_path) -> None:
    assert WriterTurns.beside(":memory:") is None
    with open_store("sqlite:///:memory:") as store:
        store.migrate()
        with store.atomic():
            store.sync.enqueue("memory", "Job", 1, "UPDATE", {})
        assert store.sync.counted()[("memory", "PENDING")] == 1
    os.mkdir(db_path + SUFFIX)  # cannot be opened as a file, even by root
    assert WriterTurns.beside(db_path) is None
    with open_store(f"sqlite:///{db_path}") as store:
        with store.atomic():
            store.sync.enqueue("no-turns", "Job", 1, "UPDATE", {})
        assert store.sync.counted()[("no-turns", "PENDING")] == 1


def test_a_wait_interrupted_by_a_signal_leaves_no_turn_held(db_path) -> None:
    """A signal handler raising (KeyboardInterrupt, a request timeout by
    SIGALRM) while a writer waits: the turn that comes later must not stay
    with the interrupted writer's idle connection."""
    import signal

    class Interrupted(Exception):
        pass

    def interrupt(*_: object) -> None:
        raise Interrupted

    holder, waiter = WriterTurns.beside(db_path), WriterTurns.beside(db_path)
    assert holder is not None and waiter is not None and holder.take(1.0)
    previous = signal.signal(signal.SIGALRM, interrupt)
    try:
        signal.setitimer(signal.ITIMER_REAL, 0.05)
        with pytest.raises(Interrupted):
            waiter.take(5.0)
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
    assert not waiter.held
    holder.give_back()
    other = WriterTurns.beside(db_path)
    assert other is not None
    assert other.take(2.0), "the interrupted writer's helper kept the turn"
    for turns in (other, holder, waiter):
        turns.close()


def test_a_forked_child_does_not_keep_its_parents_turn(db_path) -> None:
    """An open file description's locks go with its last descriptor: a forked
    child (a prefork server, multiprocessing's fork) must not keep the
    parent's turn held by the copy it inherited."""
    holder, waiter = WriterTurns.beside(db_path), WriterTurns.beside(db_path)
    assert holder is not None and waiter is not None and holder.take(1.0)
    read, write = os.pipe()
    child = os.fork()
    if child == 0:  # lives on, touching nothing, until the parent is done
        os.close(write)
        os.read(read, 1)
        os._exit(0)
    os.close(read)
    try:
        assert not waiter.take(0.1)  # gives up; its helper gets the turn later, and ends
        holder.give_back()
        other = WriterTurns.beside(db_path)
        assert other is not None
        assert other.take(2.0), "the child's copy of a descriptor kept the turn held"
        other.close()
    finally:
        os.close(write)
        os.waitpid(child, 0)
        holder.close()
