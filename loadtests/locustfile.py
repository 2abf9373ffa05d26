"""Locust load suite for ``azora-store serve``: one FastHttpUser with the mixed
workload, and a gate on ``loadtests/thresholds.toml`` when Locust quits.

Inputs (``loadtests/run.py`` sets them; ``make load`` runs it):

- ``AZORA_LOAD_TOKEN``: a bearer token with the read, write and compliance scopes;
- ``AZORA_LOAD_FIXTURE``: JSON drawn from the seeded database (open job ids and
  their skills, budgets and title words; user ids; KYC user ids);
- ``AZORA_LOAD_PROFILE``: the thresholds section to apply (the dataset scale);
- ``AZORA_LOAD_RATE``: requests per second per user (0: as fast as answered);
- ``AZORA_LOAD_CONSISTENCY``: 1 adds the read-your-writes task (below).

    locust -f loadtests/locustfile.py --headless -u 16 -r 16 -t 30s \\
        -H http://127.0.0.1:4000 --only-summary

Mix: search 50%, job detail 15%, user stats 15%, sync status 5%, KYC 5%, post a
job 5%, apply 5% (tagged ``read`` and ``write``: ``--exclude-tags write`` runs the
reads alone). Writes always succeed by construction: jobs are posted by
existing users, and applications go to jobs this run posted, each by a
freelancer who is not its client and has not applied to it yet.

With ``AZORA_LOAD_CONSISTENCY=1`` (the replica profile) a user also posts a job
and reads it straight back, sending the write's ``Azora-Consistency-Token``
(5%, "GET /api/jobs/{id} after write"): a 404 there is a stale read, counted as
a failure, so the gate fails on any.

Distributed (``make load WORKERS=N``: ``--processes N``): every worker runs the
users, the master aggregates and alone applies the gate.
"""

from __future__ import annotations

import json
import logging
import os
import random
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from gate import breaches, limits
from locust import FastHttpUser, between, constant_throughput, events, tag, task
from locust.runners import WorkerRunner

MAX_POSTED = 2_000  # recent jobs kept as apply targets
WORDS = ("build", "design", "migrate", "audit", "mobile", "payments", "dashboard", "api",
         "data", "pipeline", "website", "integration", "review", "cloud", "testing")
CURRENCIES = ("USD",) * 6 + ("EUR", "EUR", "GBP", "ZAR", "NGN", "KES")

log = logging.getLogger("azora.load")


def _fixture() -> dict[str, Any]:
    path = os.environ.get("AZORA_LOAD_FIXTURE")
    if not path:
        raise SystemExit("set AZORA_LOAD_FIXTURE (written by loadtests/run.py)")
    return json.loads(Path(path).read_text())


DATA = _fixture()
TOKEN = os.environ.get("AZORA_LOAD_TOKEN", "")
RATE = float(os.environ.get("AZORA_LOAD_RATE", "0") or 0)
CONSISTENCY = os.environ.get("AZORA_LOAD_CONSISTENCY", "") == "1"
TOKEN_HEADER = "Azora-Consistency-Token"
HEADERS = {"Authorization": f"Bearer {TOKEN}"}
JSON_HEADERS = {**HEADERS, "Content-Type": "application/json"}
POSTED: list[tuple[int, int, set[int]]] = []  # (job id, client id, applicants)


class MarketplaceUser(FastHttpUser):
    wait_time = constant_throughput(RATE) if RATE > 0 else between(0, 0)

    # -- reads -----------------------------------------------------------------------

    def _get(self, path: str, name: str, query: dict[str, Any] | None = None,
             parse: bool = False) -> Any:
        """GET; anything but 200 is a failure. The body is parsed only if asked
        (Locust shares the machine with the server: its CPU is precious)."""
        url = f"{path}?{urlencode(query, doseq=True)}" if query else path
        with self.client.get(url, name=name, headers=HEADERS, catch_response=True) as resp:
            if resp.status_code != 200:
                resp.failure(f"{resp.status_code}: {(resp.text or '')[:200]}")
                return None
            return resp.json() if parse else True

    @tag("read")
    @task(50)
    def search(self) -> None:
        job = random.choice(DATA["jobs"])
        roll = random.random()
        query: dict[str, Any] = {}
        if roll < 0.30:
            query["text"] = random.choice(job["words"] or DATA["words"])
        elif roll < 0.55 and job["skills"]:
            query["skill"] = random.choice(job["skills"])
        elif roll < 0.65 and len(job["skills"]) >= 2:
            query["skill"] = random.sample(job["skills"], 2)
        elif roll < 0.80:
            minor = job["budget_minor"]
            query.update(min_budget=f"{minor // 200}", max_budget=f"{minor * 3 // 200}",
                         currency=job["currency"])
        elif roll < 0.90:
            query["currency"] = job["currency"]
        follow = random.random() < 0.2  # one search in five reads page 2 too
        page = self._get("/api/jobs", "GET /api/jobs", query, parse=follow)
        if follow and page and page["next_cursor"]:
            self._get("/api/jobs", "GET /api/jobs", {**query, "cursor": page["next_cursor"]})

    @tag("read")
    @task(15)
    def job_detail(self) -> None:
        job_id = random.choice(DATA["jobs"])["id"]
        self._get(f"/api/jobs/{job_id}", "GET /api/jobs/{id}")

    @tag("read")
    @task(15)
    def user_stats(self) -> None:
        self._get(f"/api/users/{random.choice(DATA['users'])}/stats",
                  "GET /api/users/{id}/stats")

    @tag("read")
    @task(5)
    def sync_status(self) -> None:
        self._get("/api/sync/status", "GET /api/sync/status")

    @tag("read")
    @task(5)
    def kyc(self) -> None:
        self._get(f"/api/kyc/{random.choice(DATA['kyc_users'])}", "GET /api/kyc/{user_id}")

    # -- writes ----------------------------------------------------------------------

    def _post(self, path: str, name: str, body: dict[str, Any]) -> Any:
        with self.client.post(path, data=json.dumps(body), name=name, headers=JSON_HEADERS,
                              catch_response=True) as resp:
            if resp.status_code != 201:
                resp.failure(f"{resp.status_code}: {(resp.text or '')[:200]}")
                return None
            return resp.json()

    @tag("write")
    @task(5)
    def post_job(self) -> None:
        client = random.choice(DATA["users"])
        words = [*random.sample(WORDS, 3), random.choice(DATA["words"])]
        skills = random.sample(DATA["skills"], random.randint(1, 3))
        job = self._post("/api/jobs", "POST /api/jobs", {
            "client_id": client, "title": " ".join(words).capitalize(),
            "description": "Load test posting: " + " ".join(random.sample(WORDS, 6)),
            "budget": f"{random.randint(50, 5000)}.{random.randint(0, 99):02d}",
            "currency": random.choice(CURRENCIES), "skills": skills})
        if job is not None:
            POSTED.append((job["id"], client, set()))
            del POSTED[:-MAX_POSTED]

    @tag("write")
    @task(5)
    def apply(self) -> None:
        if not POSTED:
            self.post_job()
            if not POSTED:
                return
        job_id, client, applicants = random.choice(POSTED)
        freelancer = random.choice(DATA["users"])
        while freelancer == client or freelancer in applicants:
            freelancer = random.choice(DATA["users"])
        applicants.add(freelancer)
        body: dict[str, Any] = {"freelancer_id": freelancer, "cover_letter": "I can do it."}
        if random.random() < 0.5:
            body["bid"] = f"{random.randint(40, 4000)}.00"
        self._post(f"/api/jobs/{job_id}/applications", "POST /api/jobs/{id}/applications", body)


    if CONSISTENCY:
        @tag("write")
        @task(5)
        def read_own_write(self) -> None:
            """Post a job, then read it back with the write's token: never stale."""
            client = random.choice(DATA["users"])
            body = {"client_id": client, "title": "Read back " + " ".join(random.sample(WORDS, 2)),
                    "description": "Consistency probe", "budget": "100.00", "currency": "USD",
                    "skills": random.sample(DATA["skills"], 1)}
            with self.client.post("/api/jobs", data=json.dumps(body), name="POST /api/jobs",
                                  headers=JSON_HEADERS, catch_response=True) as resp:
                if resp.status_code != 201:
                    resp.failure(f"{resp.status_code}: {(resp.text or '')[:200]}")
                    return
                job_id, token = resp.json()["id"], resp.headers.get(TOKEN_HEADER)
            headers = {**HEADERS, TOKEN_HEADER: token} if token else HEADERS
            with self.client.get(f"/api/jobs/{job_id}", name="GET /api/jobs/{id} after write",
                                 headers=headers, catch_response=True) as resp:
                if resp.status_code == 404:
                    resp.failure("stale read: the job just posted is missing")
                elif resp.status_code != 200:
                    resp.failure(f"{resp.status_code}: {(resp.text or '')[:200]}")


# -- the gate --------------------------------------------------------------------------


@events.quitting.add_listener
def gate(environment: Any, **kwargs: Any) -> None:
    if isinstance(environment.runner, WorkerRunner):
        return  # the master holds every worker's stats and applies the gate
    profile = os.environ.get("AZORA_LOAD_PROFILE", "default")
    problems = breaches(environment.stats, limits(profile))
    for problem in problems:
        log.error("THRESHOLD BREACHED [%s]: %s", profile, problem)
    if not problems:
        log.info("thresholds [%s] met", profile)
    environment.process_exit_code = 1 if problems else 0
