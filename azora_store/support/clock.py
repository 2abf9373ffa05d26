"""One definition of "now": naive UTC datetimes, on both backends.

SQLite has no time zone type and peewee stores datetimes as text there, so
every timestamp in azora_store is UTC without tzinfo. The database triggers
that keep ``updated_at`` write UTC too.
"""

from __future__ import annotations

from datetime import UTC, datetime


def utcnow() -> datetime:
    """The current time as a naive UTC datetime."""
    return datetime.now(UTC).replace(tzinfo=None)
