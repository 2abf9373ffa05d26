"""Idempotency keys for money operations.

A money operation runs at most once per (operation, key). Inside the
operation's own transaction:

- same key, same request (SHA-256 of its canonical JSON): the stored first
  result is returned (``replayed=True``) and nothing else happens;
- same key, different request: ``Conflict`` naming ``idempotency_key``;
- new key: the work runs and the key row, with its result, is inserted in the
  same transaction, so the key exists exactly when the effect does.

Requests with the same key are serialised by a named lock taken before the
look-up (Postgres: a transaction advisory lock; SQLite: the write lock every
transaction holds), so a concurrent duplicate waits and then replays; the
unique index on (scope, key) is the last guard. Only successful results are
stored: a refused request (e.g. ``InsufficientFunds``) may be retried with the
same key. ``DatabaseBusy`` (a deadlock or serialisation failure on Postgres)
is retried a few times when the operation is not nested in a caller's
transaction: the key makes a retry safe.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

from ..errors import Conflict, DatabaseBusy, ValidationError
from ..models import IdempotencyKey
from ..support import jsonutil

if TYPE_CHECKING:
    from ..store import Store

RETRIES = 4
KEY_MAX_LENGTH = 200


class Replayable(Protocol):
    def to_json(self) -> dict[str, Any]: ...

    @classmethod
    def from_json(cls, data: dict[str, Any], replayed: bool = False) -> Any: ...


R = TypeVar("R", bound=Replayable)


def check_key(key: Any) -> str:
    if not isinstance(key, str) or not key.strip() or len(key) > KEY_MAX_LENGTH:
        raise ValidationError(f"idempotency_key must be a non-blank string of at most "
                              f"{KEY_MAX_LENGTH} characters", field="idempotency_key",
                              rule="format")
    return key


def request_hash(scope: str, request: dict[str, Any]) -> str:
    return hashlib.sha256(jsonutil.dumps({"scope": scope, **request}).encode()).hexdigest()


def run(store: Store, scope: str, key: str, request: dict[str, Any], result_type: type[R],
        work: Callable[[], R]) -> R:
    """Run ``work`` once per (scope, key) and return its result, or the stored one."""
    check_key(key)
    digest = request_hash(scope, request)
    nested = store.db.in_transaction()
    for attempt in range(1, RETRIES + 1):
        try:
            with store.atomic():
                return _once(store, scope, key, digest, result_type, work)
        except DatabaseBusy:
            if nested or attempt == RETRIES:
                raise
            time.sleep(0.01 * 2 ** attempt)
    raise AssertionError("unreachable")  # pragma: no cover


def _once(store: Store, scope: str, key: str, digest: str, result_type: type[R],
          work: Callable[[], R]) -> R:
    store.backend.lock_named(f"idempotency:{scope}:{key}")
    stored = (IdempotencyKey.select(IdempotencyKey.request_hash, IdempotencyKey.response)
              .where((IdempotencyKey.scope == scope) & (IdempotencyKey.key == key)).first())
    if stored is not None:
        if stored.request_hash != digest:
            raise Conflict(f"idempotency_key {key!r} was already used for a different "
                           f"{scope} request; use a new key for a new request",
                           field="idempotency_key", rule="reused")
        return result_type.from_json(store.backend.read_json(stored.response), replayed=True)
    result = work()
    IdempotencyKey.insert(scope=scope, key=key, request_hash=digest,
                          response=result.to_json()).execute()
    return result


__all__ = ["check_key", "request_hash", "run"]
