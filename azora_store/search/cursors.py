"""Search cursors: signed, and checked key by key before they reach SQL.

A cursor is ``base64url(JSON) "." base64url(MAC)``: the JSON holds the search's
fingerprint (``f``) and the last row's sort key (``k``); the MAC is the first
16 bytes of HMAC-SHA256 of the base64 text. A cursor the server did not make
(edited, truncated, forged, or made under another key) is refused before its
JSON is even read, and a signed one is still checked field by field against
the key's shape (a timestamp in the one text form the server writes, ids in
the 64-bit range, a tier of 0 or 1), so nothing but the expected types ever
reaches SQL as a parameter. Either failure is a ``ValidationError`` naming
``cursor``; the database never sees the value.

The key: with ``AZORA_FIELD_KEY`` (or ``AZORA_FIELD_KEY_FILE``) set, a key
derived from it (HKDF, purpose ``azora_store/cursor``, so it reveals nothing
of the field key); otherwise the database's own ``cursor`` secret, a random
value that migration 0015 stores in ``store_secrets``. Every process that
shares the database and the environment accepts the others' cursors; changing
the field key, or reverting migration 0015, invalidates outstanding cursors
(a client then starts again from the first page).
"""

from __future__ import annotations

import base64
import binascii
import hmac
import json
import os
import re
import secrets
from collections.abc import Callable, Sequence
from datetime import datetime
from functools import lru_cache
from json.encoder import encode_basestring_ascii
from typing import Any

from ..crypto import KEY_ENV, KEY_FILE_ENV, derive_key, hmac_sha256_states, load_master_key
from ..errors import ConfigurationError, ValidationError
from ..models import StoreSecret
from ..support.clock import utcnow

MAC_BYTES = 16
MAX_LENGTH = 1000  # the API's own limit on the parameter
PURPOSE = b"azora_store/cursor"
SECRET_NAME = "cursor"
MAX_ID = 2**63 - 1
_TIMESTAMP = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]{6})?",
                        re.ASCII)
_FROM_URLSAFE = bytes.maketrans(b"-_", b"+/")


# -- what a key may hold ---------------------------------------------------------------


def _id(value: Any) -> bool:
    return type(value) is int and 0 <= value <= MAX_ID


def _tier(value: Any) -> bool:
    return type(value) is int and value in (0, 1)


def _timestamp(value: Any) -> bool:
    """The text form the sort key is written in (``datetime.isoformat(" ")``, as
    SQLite stores it): a real date and time, nothing else."""
    if type(value) is not str or not _TIMESTAMP.fullmatch(value):
        return False
    try:
        datetime.fromisoformat(value)
    except ValueError:
        return False
    return True


Shape = tuple[Callable[[Any], bool], ...]
#: A listing's key: (created_at as text, job id).
LISTING: Shape = (_timestamp, _id)
#: A text search's key: (tier: 0 title matches, 1 the others; job id).
TEXT: Shape = (_tier, _id)


def invalid() -> ValidationError:
    return ValidationError("cursor is not valid for this search: pass the next_cursor of the "
                           "previous page of the same query", field="cursor", rule="cursor")


# -- signing ---------------------------------------------------------------------------


class CursorCodec:
    """Makes and reads the cursors of one key."""

    def __init__(self, key: bytes):
        # HMAC from precomputed pad states: 1 µs a cursor, against 7 µs for
        # hmac.digest here (OpenSSL sets the key up on every call).
        self._inner, self._outer = hmac_sha256_states(key)
        # Remembered per codec (so never across keys): reading and checking a
        # cursor cost more than a listing's own Python.
        self._checked = lru_cache(maxsize=1024)(self._check)

    def _mac(self, payload: bytes) -> str:
        inner = self._inner.copy()
        inner.update(payload)
        outer = self._outer.copy()
        outer.update(inner.digest())
        return base64.urlsafe_b64encode(outer.digest()[:MAC_BYTES]).decode().rstrip("=")

    def encode(self, fingerprint: str, key: Sequence[Any]) -> str:
        # The compact JSON of {"f": fingerprint, "k": key}, written out: the key
        # holds ints and strings only, and JSONEncoder.encode builds an encoder
        # per call.
        items = ",".join([encode_basestring_ascii(v) if isinstance(v, str) else int.__repr__(v)
                          for v in key])
        return self.sign(f'{{"f":{encode_basestring_ascii(fingerprint)},"k":[{items}]}}'
                         .encode())

    def sign(self, raw: bytes) -> str:
        """The cursor carrying ``raw`` (JSON bytes) under this key."""
        payload = base64.urlsafe_b64encode(raw).rstrip(b"=")
        return f"{payload.decode()}.{self._mac(payload)}"

    def decode(self, cursor: Any, fingerprint: str, shape: Shape) -> list[Any] | None:
        """The key a cursor of this search holds, checked against ``shape``; None
        for no cursor; a ValidationError naming ``cursor`` for anything else."""
        if cursor is None or cursor == "":
            return None
        if type(cursor) is not str or len(cursor) > MAX_LENGTH:
            raise invalid()
        key = self._checked(cursor, fingerprint, shape)
        if key is None:
            raise invalid()
        return list(key)

    def _check(self, cursor: str, fingerprint: str, shape: Shape) -> tuple[Any, ...] | None:
        parsed = self._verify(cursor)
        if (parsed is None or parsed[0] != fingerprint or len(parsed[1]) != len(shape)
                or not all(check(value) for check, value in zip(shape, parsed[1], strict=True))):
            return None
        return parsed[1]

    def _verify(self, cursor: str) -> tuple[Any, tuple[Any, ...]] | None:
        """A signed cursor's (fingerprint, key); None if unsigned or malformed."""
        payload, dot, mac = cursor.partition(".")
        try:
            encoded = payload.encode("ascii")
            if not dot or not hmac.compare_digest(self._mac(encoded), mac):
                return None
            padded = encoded + b"=" * (-len(encoded) % 4)
            data = json.loads(binascii.a2b_base64(padded.translate(_FROM_URLSAFE),
                                                  strict_mode=True))
            key = data["k"]
            if isinstance(data, dict) and isinstance(key, list):
                return data["f"], tuple(key)
        except (ValueError, TypeError, KeyError, binascii.Error, UnicodeError):
            pass
        return None


# -- the key ---------------------------------------------------------------------------


def cursor_key(backend: Any) -> bytes:
    """The signing key: derived from the field key when one is configured, else
    the database's ``cursor`` secret (see the module docstring)."""
    if os.environ.get(KEY_ENV) or os.environ.get(KEY_FILE_ENV):
        return derive_key(load_master_key(), PURPOSE)
    param = backend.db.param
    rows = backend.fetch(f"SELECT value FROM store_secrets WHERE name = {param}",
                         [SECRET_NAME])
    if not rows:  # deleted by hand: make a new one (racing processes keep the first)
        StoreSecret.insert(name=SECRET_NAME, value=secrets.token_hex(32),
                           created_at=utcnow()).on_conflict_ignore().execute()
        rows = backend.fetch(f"SELECT value FROM store_secrets WHERE name = {param}",
                             [SECRET_NAME])
        if not rows:
            raise ConfigurationError("store_secrets holds no cursor secret")
    return bytes.fromhex(rows[0][0])


__all__ = ["LISTING", "TEXT", "CursorCodec", "cursor_key", "invalid"]
