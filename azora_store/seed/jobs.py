"""Jobs, their skills and the applications to them."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from ..money import CURRENCIES
from .common import (
    CHUNK,
    CURRENCY_WEIGHTS,
    END,
    START,
    _stamp,
    zipf_weights,
)
from .words import DESCRIPTION_WORDS, SKILLS, TITLE_OPENERS, TITLE_ROLES, TITLE_TASKS


class JobsBuilder:
    """Jobs, their skills and the applications to them.

    A part of :class:`~azora_store.seed.Seeder`: it
    reads the draws and settings the Seeder keeps (``self.np``, ``self.scale``...)."""

    def _draw_jobs(self) -> None:
        """What the outbox's plan and the applications need of the jobs (numpy
        columns); their texts are drawn when their rows are built."""
        np, rng, n, users = self.np, self.rng("jobs"), self.scale.jobs, self.scale.users
        span = (END - START).total_seconds()
        created = np.sort(rng.uniform(0, span, n))
        age = created / span  # 0 = oldest, 1 = newest
        open_ = rng.random(n) < 0.05 + 0.30 * age  # 20% overall, more among recent jobs
        other = rng.choice(np.array(["IN_PROGRESS", "COMPLETED", "CANCELLED"]), n,
                           p=(0.125, 0.75, 0.125))
        status = np.where(open_, "OPEN", other)
        client = rng.choice(users, n, p=zipf_weights(users, 0.5)) + 1
        freelancer = (client + rng.integers(1, users, n) - 1) % users + 1  # never the client
        hired = (status == "IN_PROGRESS") | (status == "COMPLETED")
        budget = (np.round(np.exp(rng.uniform(np.log(50), np.log(50_000), n)) / 5) * 500
                  ).astype(int)
        self.job_arrays = {"created": created, "status": status, "client": client,
                           "freelancer": np.where(hired, freelancer, 0), "open": open_,
                           "budget": budget}
        self.jobs_rng = rng  # the texts' draws continue from here

    def _jobs(self) -> None:
        np, rng, n, planned = self.np, self.jobs_rng, self.scale.jobs, self.job_arrays
        span = (END - START).total_seconds()
        currency = rng.choice(np.array(CURRENCIES), n, p=CURRENCY_WEIGHTS)
        closed = np.minimum(planned["created"] + rng.uniform(86_400, 86_400 * 60, n), span)
        deleted = rng.random(n) < 0.005
        skills = self._draw_skills(rng, n)
        words = rng.choice(len(DESCRIPTION_WORDS), (n, 28),
                           p=zipf_weights(len(DESCRIPTION_WORDS), 1.0))
        length = rng.integers(12, 28, n).tolist()
        opener, role = rng.integers(0, len(TITLE_OPENERS), n), rng.integers(0, len(TITLE_ROLES), n)
        opener, role, task = opener.tolist(), role.tolist(), rng.integers(0, len(TITLE_TASKS),
                                                                          n).tolist()
        stamps, closes = _stamp(np, planned["created"]), _stamp(np, closed)
        planned.update(currency=currency, deleted=deleted)  # the counters count from them
        self.jobs = {"created": planned["created"], "status": planned["status"].tolist(),
                     "client": planned["client"].tolist(),
                     "freelancer": planned["freelancer"].tolist(),
                     "budget": planned["budget"].tolist(), "currency": currency.tolist(),
                     "deleted": deleted.tolist(), "skills": skills, "stamps": stamps,
                     "closed": closes}
        status, client, hired_by, budget, currency, deleted = (self.jobs[name] for name in (
            "status", "client", "freelancer", "budget", "currency", "deleted"))

        def chunks() -> Iterator[list[tuple]]:
            for a, b in self._spans(n):
                rows = []
                for i, drawn in enumerate(words[a:b].tolist(), start=a):
                    first_skill = SKILLS[skills[i][0]]
                    extra = " ".join(SKILLS[s] for s in skills[i][1:])
                    title = (f"{TITLE_OPENERS[opener[i]]} {first_skill} {TITLE_ROLES[role[i]]} "
                             f"{TITLE_TASKS[task[i]]}")
                    description = " ".join([DESCRIPTION_WORDS[w] for w in drawn[:length[i]]]
                                           + ([extra] if extra else []))
                    state = status[i]
                    is_closed = state in ("COMPLETED", "CANCELLED")
                    rows.append((i + 1, client[i], hired_by[i] or None, title, description,
                                 state, budget[i], currency[i], stamps[i],
                                 closes[i] if is_closed else stamps[i],
                                 closes[i] if is_closed else None,
                                 closes[i] if deleted[i] else None))
                yield rows

        self._load("jobs", ("id", "client_id", "freelancer_id", "title", "description", "status",
                            "budget_minor", "currency", "created_at", "updated_at", "closed_at",
                            "deleted_at"), chunks(), n)

    def _draw_skills(self, rng: Any, n: int) -> list[list[int]]:
        """1 to 5 distinct skills per job (mean ~3), Zipf-like popularity."""
        draws = rng.choice(len(SKILLS), (n, 8), p=zipf_weights(len(SKILLS), 1.07))
        counts = rng.choice(5, n, p=(0.10, 0.25, 0.35, 0.20, 0.10)) + 1
        chosen = []
        for row, count in zip(draws.tolist(), counts.tolist(), strict=True):
            picked: list[int] = []
            for skill in row:
                if skill not in picked:
                    picked.append(skill)
                    if len(picked) == count:
                        break
            chosen.append(picked)
        return chosen

    def _job_skills(self) -> None:
        jobs = self.jobs
        total = sum(len(s) for s in jobs["skills"])

        def chunks() -> Iterator[list[tuple]]:
            rows: list[tuple] = []
            for i, skills in enumerate(jobs["skills"]):
                status, stamp = jobs["status"][i], jobs["stamps"][i]
                listed = None if jobs["deleted"][i] else status
                opened = stamp if listed == "OPEN" else None
                other = None if listed == "OPEN" else listed  # see JobSkill.job_status
                budget, currency = jobs["budget"][i], jobs["currency"][i]
                rows.extend((i + 1, SKILLS[s], opened, budget, currency, other, stamp)
                            for s in skills)
                if len(rows) >= CHUNK:
                    yield rows
                    rows = []
            if rows:
                yield rows

        self._load("job_skills", ("job_id", "skill", "open_created_at", "budget_minor",
                                  "currency", "job_status", "job_created_at"), chunks(), total)

    def _draw_applicants(self) -> None:
        """Every job's applicants in order, the hired freelancer first and then
        ~3 drawn candidates, each freelancer once per job, never the client:
        numpy columns, so the number of applications is known before any row
        is built (the outbox's events refer to them)."""
        np, rng, jobs, users = self.np, self.rng("applications"), self.job_arrays, self.scale.users
        n_jobs = self.scale.jobs
        per_job = rng.poisson(max(self.scale.applications / n_jobs - 0.7, 0.1), n_jobs)
        draws = int(per_job.sum()) + n_jobs  # a block of per_job + 1 draws per job
        candidates = rng.integers(1, users, draws)
        bids = rng.uniform(0.7, 1.2, draws)
        delays = rng.uniform(600, 86_400 * 5, draws)
        withdrawn = rng.random(draws) < 0.1
        client, hired = jobs["client"], jobs["freelancer"]
        has_hired = (hired > 0).astype(np.int64)
        slots = per_job + has_hired  # the hired freelancer, then the candidates
        job = np.repeat(np.arange(n_jobs), slots)
        slot = np.arange(len(job)) - (np.cumsum(slots) - slots)[job]
        block = (np.cumsum(per_job + 1) - (per_job + 1))[job]  # the job's first draw
        candidate = slot - has_hired[job]
        freelancer = np.where(candidate < 0, hired[job],
                              (client[job] + candidates[block + np.maximum(candidate, 0)] - 1)
                              % users + 1)
        at = np.minimum(block + slot, draws - 1)  # the draw giving bid, stamp, withdrawal
        first = np.zeros(len(job), dtype=bool)
        first[np.unique(job * (users + 1) + freelancer, return_index=True)[1]] = True
        kept = np.flatnonzero(first & (freelancer != client[job]))
        job, freelancer, at = job[kept], freelancer[kept], at[kept]
        state = np.where(freelancer == hired[job], "ACCEPTED",
                         np.where(withdrawn[at], "WITHDRAWN",
                                  np.where(jobs["open"][job], "PENDING", "REJECTED")))
        bid = np.rint(jobs["budget"][job] * bids[at] / 100).astype(np.int64) * 100
        self.applicants = {"job": job + 1, "freelancer": freelancer,
                           "bid": np.where(bid == 0, 100, bid), "state": state, "at": at,
                           "applied": np.repeat(jobs["created"], per_job + 1)[:draws] + delays}

    def _applications(self) -> None:
        applicants = self.applicants
        job, freelancer, bid, state, at = (applicants[name].tolist() for name in (
            "job", "freelancer", "bid", "state", "at"))
        stamps = _stamp(self.np, applicants["applied"])

        def chunks() -> Iterator[list[tuple]]:
            for a, b in self._spans(len(job)):
                yield [(i + 1, job[i], freelancer[i], "", bid[i], state[i], stamps[at[i]],
                        stamps[at[i]]) for i in range(a, b)]

        self._load("applications", ("id", "job_id", "freelancer_id", "cover_letter",
                                    "bid_minor", "status", "created_at", "updated_at"),
                   chunks(), len(job))
