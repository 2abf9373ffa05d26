"""Search requests drawn over everything the API accepts, class by class.

The other benchmark draws start from open jobs, so they stay where the planner
was tuned (OPEN jobs, skills as popular as the jobs drawn). These draw:

- ``status-<S>``: every status, one skill drawn uniformly over all 500 (and
  a few no job has), sometimes a currency;
- ``text``: 1 to 5 words from the titles, the descriptions, the skills, rare
  words and words that match nothing;
- ``budget``: budget-only ranges of every width (log-uniform), one side or
  both, half of them in a currency;
- ``mix``: any combination of status, 0-2 skills, text (OPEN only), budget
  and currency.

Each request asks for page 1 to 5 (limit 20 or 100): the cursors of the pages
before it are fetched while drawing, untimed. The gate reads each class on its
own, so the worst class is what is gated, not the mix.
"""

from __future__ import annotations

import random
from typing import TYPE_CHECKING, Any

from azora_store.models.marketplace import JobStatus
from azora_store.money import CURRENCIES
from azora_store.queries import search_jobs
from azora_store.seed.words import DESCRIPTION_WORDS, SKILLS, TITLE_ROLES, TITLE_TASKS

if TYPE_CHECKING:
    from ..store import Store

STATUSES = [status.value for status in JobStatus]
ABSENT_SKILLS = ["autocad training", "cobol on mars", "quantum knitting"]
NONSENSE = ["zzxqv", "qwertyuiop", "flibbertigibbet", "xylophonist", "snarkle"]
CLASSES = [*(f"status-{status.lower()}" for status in STATUSES), "text", "budget", "mix"]


class SpaceDraws:
    """Deterministic requests per class (``requests(cls)``), each a dict of
    ``search_jobs`` arguments including the cursor of its page."""

    def __init__(self, store: Store, count: int, seed: int = 11):
        self.store, self.count, self.rng = store, count, random.Random(seed)
        self.skills = [*SKILLS, *ABSENT_SKILLS]
        words = [w for w in " ".join([*TITLE_ROLES, *TITLE_TASKS]).lower().split() if len(w) > 2]
        self.common = sorted(set(words) | set(DESCRIPTION_WORDS[:60]))
        self.rare = list(DESCRIPTION_WORDS[-60:])

    def requests(self, cls: str) -> list[dict[str, Any]]:
        made = [self._with_page(getattr(self, "_" + cls.split("-")[0])(cls))
                for _ in range(self.count)]
        return [r for r in made if r is not None]

    # -- one request of each class ----------------------------------------------

    def _status(self, cls: str) -> dict[str, Any]:
        r = self.rng
        params: dict[str, Any] = {"status": cls.split("-", 1)[1].upper(),
                                  "skills": [r.choice(self.skills)]}
        if r.random() < 0.3:
            params["currency"] = r.choice(CURRENCIES)
        return params

    def _text(self, cls: str) -> dict[str, Any]:
        r = self.rng
        words = []
        for _ in range(r.randint(1, 5)):
            pool = r.choices([self.common, self.rare, self.skills, NONSENSE],
                             weights=[4, 3, 2, 1])[0]
            words.append(r.choice(pool))
        return {"text": " ".join(words)}

    def _budget(self, cls: str) -> dict[str, Any]:
        r = self.rng
        low = round(10 ** r.uniform(1, 5), 2)  # 10 to 100,000 major units
        high = round(low * 10 ** r.uniform(0, 3), 2)  # a width of 1x to 1000x
        side = r.random()
        params: dict[str, Any] = {}
        if side < 0.8:
            params["min_budget"] = f"{low:.2f}"
        if side > 0.2:
            params["max_budget"] = f"{high:.2f}"
        if r.random() < 0.5:
            params["currency"] = r.choice(CURRENCIES)
        return params

    def _mix(self, cls: str) -> dict[str, Any]:
        r = self.rng
        params: dict[str, Any] = {}
        if r.random() < 0.4:
            params.update(self._text(cls))
        else:
            params["status"] = r.choice(STATUSES)
        if r.random() < 0.6:
            params["skills"] = r.sample(self.skills, r.choice([1, 1, 2]))
        if r.random() < 0.4:
            params.update({k: v for k, v in self._budget(cls).items() if k != "currency"})
        if r.random() < 0.4:
            params["currency"] = r.choice(CURRENCIES)
        return params

    def _with_page(self, params: dict[str, Any]) -> dict[str, Any] | None:
        """The request for a page from 1 to 5 (as deep as its results go)."""
        params["limit"] = self.rng.choice([20, 100])
        for _ in range(self.rng.randint(1, 5) - 1):
            cursor = search_jobs(self.store, **params).next_cursor
            if cursor is None:
                break
            params = {**params, "cursor": cursor}
        return params
