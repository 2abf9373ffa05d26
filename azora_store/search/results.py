"""The result types of the four target queries: a page of job hits, a user's
stats, a KYC record (each decoding its fields from one row on first use)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from ..money import from_minor
from ..support import jsonutil


@dataclass(frozen=True)
class SearchPage:
    items: list[JobHit]
    next_cursor: str | None

    def to_json(self) -> dict[str, Any]:
        return {"items": [hit.to_json() for hit in self.items], "next_cursor": self.next_cursor}


class RowView:
    """A result read from one row, decoding each field on first use (like
    ``JobHit``): callers often need a few fields, and building every typed value
    up front cost more than the query itself on SQLite."""

    __slots__ = ("_read_datetime", "_row")
    FIELDS: tuple[str, ...] = ()

    def __init__(self, row: tuple, read_datetime: Any):
        self._row = row
        self._read_datetime = read_datetime

    def __eq__(self, other: object) -> bool:
        return type(other) is type(self) and other._row == self._row  # type: ignore[attr-defined]

    def __hash__(self) -> int:
        return hash(self._row)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.to_json()}>"

    def to_json(self) -> dict[str, Any]:
        return {name: _jsonable(getattr(self, name)) for name in self.FIELDS}


def _jsonable(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, dict):
        return {key: _jsonable(item) for key, item in value.items()}
    return value


class UserStatsResult(RowView):
    """One user's figures; ``earnings`` maps currency to a Decimal amount."""

    __slots__ = ()
    FIELDS = ("user_id", "enrollments", "courses_completed", "jobs_posted", "jobs_completed",
              "applications", "reviews_received", "average_rating", "earnings")
    user_id = property(lambda self: self._row[0])
    enrollments = property(lambda self: self._row[1])
    courses_completed = property(lambda self: self._row[2])
    jobs_posted = property(lambda self: self._row[3])
    jobs_completed = property(lambda self: self._row[4])
    applications = property(lambda self: self._row[5])
    reviews_received = property(lambda self: self._row[6])

    @property
    def average_rating(self) -> Decimal | None:
        rating = self._row[7]
        return None if rating is None else Decimal(str(rating)).quantize(Decimal("0.01"))

    @property
    def earnings(self) -> dict[str, Decimal]:
        raw = self._row[8]
        parsed = jsonutil.loads(raw) if isinstance(raw, (str, bytes)) else raw or {}
        return {currency: from_minor(int(minor)) for currency, minor in sorted(parsed.items())}


class KycRecord(RowView):
    """What may be shown of a KYC record: never the document number itself."""

    __slots__ = ("others_with_document",)  # other users holding the same number
    FIELDS = ("user_id", "status", "risk_level", "document_type", "document_masked", "country",
              "submitted_at", "reviewed_at", "expires_at", "others_with_document")
    user_id = property(lambda self: self._row[0])
    status = property(lambda self: self._row[1])
    risk_level = property(lambda self: self._row[2])
    document_type = property(lambda self: self._row[3])
    document_masked = property(lambda self: self._row[4])
    country = property(lambda self: self._row[5])
    submitted_at = property(lambda self: self._read_datetime(self._row[6]))
    reviewed_at = property(lambda self: self._read_datetime(self._row[7]))
    expires_at = property(lambda self: self._read_datetime(self._row[8]))

    def __init__(self, row: tuple, read_datetime: Any, others_with_document: int = 0):
        self._row, self._read_datetime = row, read_datetime
        self.others_with_document = others_with_document


class JobHit(RowView):
    """One search result. Typed fields (budget as Decimal, created_at as datetime,
    skills sorted) are decoded from the row on first use. The row may go on with
    the page's sort key after the job's columns (not copied away for each hit)."""

    __slots__ = ()
    FIELDS = ("id", "title", "status", "budget", "currency", "created_at", "client_id",
              "skills")
    COLUMNS = len(FIELDS)

    def __eq__(self, other: object) -> bool:
        return (type(other) is type(self) and
                other._row[:self.COLUMNS] == self._row[:self.COLUMNS])  # type: ignore[attr-defined]

    def __hash__(self) -> int:
        return hash(self._row[:self.COLUMNS])
    id = property(lambda self: self._row[0])
    title = property(lambda self: self._row[1])
    status = property(lambda self: self._row[2])
    currency = property(lambda self: self._row[4])
    client_id = property(lambda self: self._row[6])

    @property
    def budget(self) -> Decimal:
        return from_minor(self._row[3])

    @property
    def created_at(self) -> datetime:
        return self._read_datetime(self._row[5])

    @property
    def skills(self) -> tuple[str, ...]:
        return tuple(sorted(self._row[7].split("|"))) if self._row[7] else ()

    def __repr__(self) -> str:
        return f"<JobHit {self.id} {self.title!r}>"

    def to_json(self) -> dict[str, Any]:
        return {**super().to_json(), "skills": list(self.skills)}
