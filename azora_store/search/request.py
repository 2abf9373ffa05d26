"""A job search request, validated and normalised once (and cached), and the
limits the API publishes."""

from __future__ import annotations

import zlib
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from ..errors import ValidationError
from ..models.fields import normalise_skill
from ..models.marketplace import JobStatus
from ..money import CURRENCIES, to_minor

MAX_LIMIT = 100
MAX_SKILLS = 5
MAX_TEXT = 200


_STATUSES = frozenset(status.value for status in JobStatus)


@dataclass(frozen=True, slots=True)
class SearchRequest:
    text: str | None
    skills: tuple[str, ...]
    status: str
    min_budget: int | None
    max_budget: int | None
    currency: str | None
    limit: int
    fingerprint: str = field(default="", compare=False)

    @classmethod
    def build(cls, text: Any, skills: Any, status: Any, min_budget: Any, max_budget: Any,
              currency: Any, limit: Any) -> SearchRequest:
        if text is not None and not isinstance(text, str):
            raise ValidationError("text must be a string", field="text", rule="type")
        text = " ".join(text.split()) if text else None
        if text and len(text) > MAX_TEXT:
            raise ValidationError(f"text is longer than {MAX_TEXT} characters", field="text",
                                  rule="max_length")
        if isinstance(skills, str):
            skills = [skills]
        if not skills:
            normalised: tuple[str, ...] = ()
        else:
            try:
                skills = list(skills)
                if not all(isinstance(s, str) for s in skills):
                    raise TypeError
                normalised = tuple(dict.fromkeys(normalise_skill(s) for s in skills if s))
            except TypeError:
                raise ValidationError("skills must be a list of strings", field="skills",
                                      rule="type") from None
        if len(normalised) > MAX_SKILLS:
            raise ValidationError(f"at most {MAX_SKILLS} skills", field="skills",
                                  rule="max_items")
        if isinstance(status, str) and status in _STATUSES:  # skips the Enum lookup
            status = str(status)  # JobStatus.OPEN and "OPEN": one query, one cursor identity
        else:
            try:
                status = JobStatus(status or JobStatus.OPEN).value
            except ValueError:
                raise ValidationError(f"status must be one of {', '.join(JobStatus)}, got "
                                      f"{status!r}", field="status", rule="enum") from None
        if text and status != JobStatus.OPEN:
            raise ValidationError("text search covers OPEN jobs only", field="text",
                                  rule="open_only")
        low = None if min_budget in (None, "") else to_minor(min_budget, "min_budget")
        high = None if max_budget in (None, "") else to_minor(max_budget, "max_budget")
        if low is not None and high is not None and low > high:
            raise ValidationError("min_budget must not exceed max_budget", field="min_budget",
                                  rule="range")
        if currency is not None:
            currency = str(currency).strip().upper()
            if currency not in CURRENCIES:
                raise ValidationError(f"currency must be one of {', '.join(CURRENCIES)}",
                                      field="currency", rule="enum")
        if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= MAX_LIMIT:
            raise ValidationError(f"limit must be a whole number from 1 to {MAX_LIMIT}",
                                  field="limit", rule="range")
        # Only ties a cursor to its query (no secret): a CRC is enough and cheap.
        identity = repr((text, sorted(normalised), status, low, high, currency)).encode()
        digest = f"{zlib.crc32(identity):08x}"
        return cls(text, normalised, status, low, high, currency, limit, digest)

    @classmethod
    def of(cls, text: Any, skills: Any, status: Any, min_budget: Any, max_budget: Any,
           currency: Any, limit: Any) -> SearchRequest:
        """``build``, remembered per arguments (and their types, so that 1.0 is
        still refused where 1 is accepted): the request depends on them alone, and
        validating them cost more than a page of results on SQLite."""
        try:
            if skills and not isinstance(skills, (str, tuple)):
                skills = tuple(skills)  # a list, or an iterator read once here
            if currency is not None:
                currency = str(currency)  # what build reads of it; never cached by identity
            return _built(text, skills, status, min_budget, max_budget, currency, limit)
        except TypeError:  # not iterable, or unhashable: validated (or refused) as given
            return cls.build(text, skills, status, min_budget, max_budget, currency, limit)


_built = lru_cache(maxsize=1024, typed=True)(SearchRequest.build)
