"""The per-user counters (``user_counters``), computed from the seed's own draws."""

from __future__ import annotations

from typing import Any

from ..money import CURRENCIES
from .common import _chunked


class CountersBuilder:
    """Every user's counters, counted with numpy from the columns the other
    builders drew: what ``Backend.fill_user_counters`` would compute from the
    loaded tables (one aggregate pass over them, 9-14 s at large scale), and
    what ``doctor`` checks them against (the ``user_stats`` view).

    A part of :class:`~azora_store.seed.Seeder`: it reads the columns the
    people, jobs and money builders keep (``self.job_arrays``, ``self.reviewed``...)."""

    def _user_counters(self) -> None:
        np, users = self.np, self.scale.users
        jobs = self.job_arrays

        def per_user(ids: Any, weights: Any = None) -> list[int]:
            """How many (or the sum of ``weights``) per user id 1..users."""
            if weights is None:
                counted = np.bincount(ids, minlength=users + 1)
            else:  # integer sums: no float on the way
                counted = np.zeros(users + 1, dtype=np.int64)
                np.add.at(counted, ids, weights)
            return counted[1:].tolist()

        enrolled = self.enrolled
        completed = jobs["status"] == "COMPLETED"
        reviewed = self.reviewed
        figures = (
            (~self.user_deleted).tolist(),
            per_user(enrolled["user"]),
            per_user(enrolled["user"][enrolled["completed"]]),
            per_user(jobs["client"][~jobs["deleted"]]),
            per_user(jobs["freelancer"][completed]),
            per_user(self.applicants["freelancer"]),
            per_user(reviewed["reviewee"]),
            per_user(reviewed["reviewee"], reviewed["rating"]),
            self._earnings(completed),
        )
        rows = list(zip(range(1, users + 1), *figures, strict=True))
        self._load("user_counters", ("user_id", "active", "enrollments", "courses_completed",
                                     "jobs_posted", "jobs_completed", "applications",
                                     "reviews_received", "rating_sum", "earnings"),
                   iter(_chunked(rows)), users)

    def _earnings(self, completed: Any) -> list[str]:
        """Each user's released escrows by currency, as a JSON object with its
        currencies in order ('{}' for none): every completed job's budget is
        released to its freelancer's wallet in the job's currency."""
        np, jobs = self.np, self.job_arrays
        codes = np.searchsorted(np.array(sorted(CURRENCIES)), jobs["currency"][completed])
        order = sorted(CURRENCIES)
        keys = jobs["freelancer"][completed].astype(np.int64) * len(order) + codes
        pairs, where = np.unique(keys, return_inverse=True)
        totals = np.zeros(len(pairs), dtype=np.int64)
        np.add.at(totals, where, jobs["budget"][completed].astype(np.int64))
        earnings = ["{}"] * self.scale.users
        owners = (pairs // len(order)).tolist()
        currencies = (pairs % len(order)).tolist()
        totals = totals.tolist()
        start = 0  # each owner's pairs are consecutive, their currencies in order
        for end in [*(np.flatnonzero(np.diff(pairs // len(order))) + 1).tolist(), len(pairs)]:
            earnings[owners[start] - 1] = "{" + ",".join(
                f'"{order[currencies[k]]}":{totals[k]}' for k in range(start, end)) + "}"
            start = end
        return earnings
