"""Bearer tokens for the HTTP API.

A token is ``azs_`` + 32 random bytes (URL-safe base64). Only its SHA-256 hex
digest is stored (``api_tokens.token_hash``), so a copy of the database gives
no usable token; the token itself is shown once, when it is created.

Each token holds one or more scopes: ``read`` (searches, jobs, stats, sync
status and failed events, the dashboard), ``write`` (post jobs, apply),
``compliance`` (KYC records) and ``operator`` (act on the outbox: retry,
discard, run now). A scope implies no other: a token that writes and reads
holds both, and an operator who uses the dashboard holds ``read`` too.

The look-up on every request is cached per process for ``CACHE_SECONDS``
(hits and misses alike), so the hot path costs a hash and a dict look-up;
a revoked token therefore stops working within that time. ``last_used_at`` is
refreshed at most once a minute per token, best effort.
"""

from __future__ import annotations

import contextlib
import hashlib
import secrets
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from ..errors import AzoraError, NotFound, ValidationError
from ..models.auth import SCOPES, ApiToken
from ..support.clock import utcnow

if TYPE_CHECKING:
    from ..store import Store

TOKEN_PREFIX = "azs_"
CACHE_SECONDS = 5.0
CACHE_MAX_ENTRIES = 10_000  # bounds the memory a flood of wrong tokens can take
TOKEN_MAX_LENGTH = 200  # longer bearer values are refused without a look-up
TOUCH_EVERY = timedelta(seconds=60)


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is calling: the token's id, name and scopes."""

    token_id: int
    name: str
    scopes: frozenset[str]


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def scope_set(scopes: Iterable[str]) -> str:
    """Scopes (repeated or comma-separated) as stored: sorted, space-separated."""
    chosen = {part.strip().lower() for value in scopes for part in value.split(",")
              if part.strip()}
    unknown = chosen - set(SCOPES)
    if unknown or not chosen:
        raise ValidationError(f"scopes must be one or more of {', '.join(SCOPES)}"
                              + (f", got {', '.join(sorted(unknown))}" if unknown else ""),
                              field="scopes", rule="enum")
    return " ".join(sorted(chosen))


class Tokens:
    """Create, list and revoke tokens (the CLI) and authenticate requests (the API)."""

    def __init__(self, store: Store, cache_seconds: float = CACHE_SECONDS):
        self.store = store
        self.cache_seconds = cache_seconds
        p = store.db.param
        self._lookup_sql = ("SELECT id, name, scopes, last_used_at FROM api_tokens "
                            f"WHERE token_hash = {p} AND revoked_at IS NULL")
        self._touch_sql = f"UPDATE api_tokens SET last_used_at = {p} WHERE id = {p}"
        self._cache: dict[str, tuple[float, Principal | None]] = {}
        self._lock = threading.Lock()

    # -- management ----------------------------------------------------------------

    def create(self, name: str, scopes: Iterable[str]) -> tuple[ApiToken, str]:
        """A new token: returns its row and the token itself (never stored)."""
        if not isinstance(name, str) or not name.strip():
            raise ValidationError("a token needs a name", field="name", rule="not_blank")
        token = TOKEN_PREFIX + secrets.token_urlsafe(32)
        with self.store.atomic():
            row = ApiToken.create(name=name.strip(), token_hash=hash_token(token),
                                  scopes=scope_set(scopes))
        return row, token

    def list(self, include_revoked: bool = False) -> list[ApiToken]:
        query = ApiToken.select().order_by(ApiToken.id)
        if not include_revoked:
            query = query.where(ApiToken.revoked_at.is_null())
        return list(query)

    def revoke(self, name_or_id: str | int) -> int:
        """Revoke the active token with this id, or every active one with this name."""
        key = str(name_or_id).strip()
        # An id is ASCII digits: "+1" or full-width digits are names, not token 1.
        by_id = key.isascii() and key.isdigit()
        match = ApiToken.id == int(key) if by_id else ApiToken.name == key
        with self.store.atomic():
            count = (ApiToken.update(revoked_at=utcnow())
                     .where(match & ApiToken.revoked_at.is_null()).execute())
        if not count:
            raise NotFound(f"no active token {key!r}", field="name", rule="exists")
        with self._lock:
            self._cache.clear()
        return count

    # -- the hot path ------------------------------------------------------------------

    def authenticate(self, token: str) -> Principal | None:
        """The principal of an active token, or None (unknown, revoked, malformed)."""
        if not token or len(token) > TOKEN_MAX_LENGTH:
            return None
        digest = hash_token(token)
        now = time.monotonic()
        cached = self._cache.get(digest)
        if cached is not None and cached[0] > now:
            return cached[1]
        rows = self.store.backend.fetch(self._lookup_sql, (digest,))
        principal = None
        if rows:
            token_id, name, scopes, last_used = rows[0]
            principal = Principal(token_id, name, frozenset(scopes.split()))
            self._touch(token_id, self.store.backend.read_datetime(last_used))
        with self._lock:
            if len(self._cache) >= CACHE_MAX_ENTRIES:
                self._cache.clear()
            self._cache[digest] = (now + self.cache_seconds, principal)
        return principal

    def _touch(self, token_id: int, last_used: Any) -> None:
        when = utcnow()
        if last_used is not None and when - last_used < TOUCH_EVERY:
            return
        with contextlib.suppress(AzoraError):  # best effort: never fails the request
            self.store.db.execute_sql(self._touch_sql,
                                      (self.store.backend.datetime_param(when), token_id))
