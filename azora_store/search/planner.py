"""The job search planner (a part of :class:`~azora_store.queries.Queries`).

Job search chooses its plan in the application, the way a search engine does,
from numbers it caches for a few minutes (``numbers.py``): listings without
text in ``listing.py``, text search in ``text.py``, whose SQL fragments and
cost traits come from the dialect's full-text index (``Backend.fulltext``).

Paging is keyset: the opaque cursor holds the last row's sort key and a
fingerprint of the filters, so it stays correct when jobs are inserted
meanwhile and is refused with a different query. Cursors are signed and
checked key by key before use (``cursors.py``): a forged one is a
ValidationError naming ``cursor``.
"""

from __future__ import annotations

from itertools import repeat
from typing import Any

from ..replicas import read_path
from . import cursors
from .listing import RANGE_SORT_CAP, ListingPlans
from .request import SearchRequest
from .results import JobHit, SearchPage
from .text import TextPlans

__all__ = ["RANGE_SORT_CAP", "SearchPlanner"]


class SearchPlanner(ListingPlans, TextPlans):
    """Job search: the plan chosen from the cached numbers, its SQL, keyset
    paging. A part of :class:`~azora_store.queries.Queries`, which holds the
    state (``rows``, ``_statement``, the cached numbers)."""

    _cursors: cursors.CursorCodec | None

    @property
    def cursors(self) -> cursors.CursorCodec:
        """The cursor codec, keyed on first use (the key may be read from the
        database)."""
        codec = self._cursors
        if codec is None:
            codec = self._cursors = cursors.CursorCodec(cursors.cursor_key(self.backend))
        return codec

    @read_path
    def search_jobs(self, text: str | None = None, skills: Any = (), status: str = "OPEN",
                    min_budget: Any = None, max_budget: Any = None, currency: str | None = None,
                    limit: int = 20, cursor: str | None = None) -> SearchPage:
        request = SearchRequest.of(text, skills, status, min_budget, max_budget, currency,
                                   limit)
        after = (None if cursor is None else self.cursors.decode(
            cursor, request.fingerprint, cursors.TEXT if request.text else cursors.LISTING))
        if request.text:
            rows, key = self._search_text(request, after)
        else:
            rows, key = self._search_listing(request, after)
        return SearchPage(list(map(JobHit, rows, repeat(self.backend.read_datetime))),
                          self.cursors.encode(request.fingerprint, key) if key else None)
