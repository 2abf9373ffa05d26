"""Reads on PostgreSQL streaming replicas, with read-your-writes by WAL position.

    store = open_store("postgresql://app@primary/azora?replica=postgresql://replica1/azora")
    with read_your_writes() as session:         # every commit in the block moves the token
        job = store.market.post_job(...)
        search_jobs(store, text="api")          # a replica that has the job, or the primary
    token = session.token                       # e.g. "0/3A1F2B8": keep it with the user

    with consistent(token):                     # later, elsewhere: reads see that write
        user_stats(store, user_id)

Only the package's read paths (``read_path``: the four target queries and job
reads) go to replicas; see ``router`` for how one is chosen. On a database
without replicas (SQLite, or PostgreSQL without ``replica=``) every read is on
the one database: tokens are None and these contexts change nothing.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, TypeVar

from .lsn import TOKEN_HEADER, format_lsn, parse_lsn
from .router import PINNED, SESSION, TOKEN, Session

if TYPE_CHECKING:
    from ..store import Store

F = TypeVar("F", bound=Callable[..., Any])


def read_path(method: F) -> F:
    """Mark a method (of an object with ``.backend``) as a read path: its
    statements may run on a replica (one server for the whole call)."""

    @functools.wraps(method)
    def routed(self: Any, *args: Any, **kwargs: Any) -> Any:
        reads = self.backend.reads
        if reads is None:
            return method(self, *args, **kwargs)
        scope = reads.enter()
        try:
            return method(self, *args, **kwargs)
        finally:
            reads.leave(scope)

    return routed  # type: ignore[return-value]


def consistency_token(store: Store) -> str | None:
    """The primary's WAL position now, as a token: reads carrying it see every
    transaction committed before this call. None without replicas."""
    reads = store.backend.reads
    return None if reads is None else format_lsn(reads.position())


@contextmanager
def consistent(token: str | None) -> Iterator[None]:
    """Reads in the block see at least the write that produced ``token`` (a
    replica serves them only once it has replayed that far). None: no demand."""
    if token is None:
        yield
        return
    position = parse_lsn(token)
    reset = TOKEN.set(max(TOKEN.get(), position))
    try:
        yield
    finally:
        TOKEN.reset(reset)


@contextmanager
def read_your_writes() -> Iterator[Session]:
    """Reads in the block see every write committed in it (nested blocks share
    the outer session); ``session.token`` is the last write's token."""
    outer = SESSION.get()
    if outer is not None:
        yield outer
        return
    session = Session()
    reset = SESSION.set(session)
    try:
        yield session
    finally:
        SESSION.reset(reset)


@contextmanager
def primary_reads() -> Iterator[None]:
    """Every read in the block goes to the primary."""
    reset = PINNED.set(True)
    try:
        yield
    finally:
        PINNED.reset(reset)


__all__ = ["TOKEN_HEADER", "Session", "consistency_token", "consistent", "format_lsn",
           "parse_lsn", "primary_reads", "read_path", "read_your_writes"]
