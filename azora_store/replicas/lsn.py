"""WAL positions (PostgreSQL LSNs) as consistency tokens.

A token is the primary's WAL position after a write, written as Postgres
writes an LSN (``16/B374D848``: two hexadecimal halves of a 64-bit number).
Tokens are compared as integers in Python, so a replica whose replayed
position is already known needs no round trip to be chosen.
"""

from __future__ import annotations

import re

from ..errors import ValidationError

_LSN = re.compile(r"([0-9A-Fa-f]{1,8})/([0-9A-Fa-f]{1,8})")
#: The header (HTTP) and field (Python) that carry a token.
TOKEN_HEADER = "Azora-Consistency-Token"


def parse_lsn(text: str, field: str = "token") -> int:
    """``X/Y`` as an integer; a ``ValidationError`` naming ``field`` otherwise."""
    match = _LSN.fullmatch(text.strip()) if isinstance(text, str) else None
    if match is None:
        raise ValidationError(
            f"{field} must be a consistency token as returned by a write (a WAL position "
            f"such as 16/B374D848), not {str(text)[:40]!r}", field=field, rule="format")
    return (int(match.group(1), 16) << 32) | int(match.group(2), 16)


def format_lsn(value: int) -> str:
    return f"{value >> 32:X}/{value & 0xFFFFFFFF:X}"
