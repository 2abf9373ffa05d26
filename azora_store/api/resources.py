"""One small class per path. Inputs arrive checked (``req.context.args``, by the
middleware from the route table); each responder makes one call into the
store and writes JSON. Reads use precompiled SQL on the thread's connection,
never per-request ORM model construction."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import falcon

from ..errors import NotFound
from ..money import from_minor
from ..replicas import read_path
from ..support import jsonutil
from ..sync.operations import Actor, Operations

if TYPE_CHECKING:
    from ..store import Store
    from .app import Api


def send(resp: falcon.Response, data: Any, status: int = 200) -> None:
    resp.status = status
    resp.data = jsonutil.dumps(data).encode()


class JobReader:
    """A job with its skills in one statement (one row per skill)."""

    def __init__(self, store: Store):
        self.backend = store.backend
        self.sql = (
            "SELECT j.id, j.client_id, j.freelancer_id, j.title, j.description, j.status, "
            "j.budget_minor, j.currency, j.created_at, j.updated_at, j.closed_at, k.skill "
            "FROM jobs AS j LEFT JOIN job_skills AS k ON k.job_id = j.id "
            f"WHERE j.id = {store.db.param} AND j.deleted_at IS NULL ORDER BY k.skill")

    @read_path
    def get(self, job_id: int) -> dict[str, Any] | None:
        rows = self.backend.fetch(self.sql, (job_id,))
        if not rows:
            return None
        r = rows[0]
        read = self.backend.read_datetime
        closed = read(r[10])
        return {"id": r[0], "client_id": r[1], "freelancer_id": r[2], "title": r[3],
                "description": r[4], "status": r[5], "budget": str(from_minor(r[6])),
                "currency": r[7], "skills": [row[11] for row in rows if row[11] is not None],
                "created_at": read(r[8]).isoformat(), "updated_at": read(r[9]).isoformat(),
                "closed_at": closed.isoformat() if closed else None}


class Resource:
    path = ""

    def __init__(self, api: Api):
        self.api = api
        self.routes: dict[str, Any] = {}  # method -> Route, set by create_app


class Health(Resource):
    path = "/healthz"

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        self.api.state.store.backend.fetch("SELECT 1", ())
        send(resp, {"status": "ok"})


class Jobs(Resource):
    path = "/api/jobs"

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        a = req.context.args
        skills = list(a["skill"] or ())
        if a["skills"]:
            skills += [s for s in a["skills"].split(",") if s.strip()]
        page = self.api.state.store.queries.search_jobs(
            a["text"], skills, a["status"], a["min_budget"], a["max_budget"], a["currency"],
            a["limit"], a["cursor"])
        send(resp, page.to_json())

    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        a = req.context.args
        state = self.api.state
        with state.writes:
            job = state.store.market.post_job(a["client_id"], a["title"], a["description"],
                                              a["budget"], a["currency"], a["skills"])
        resp.location = f"{self.path}/{job.id}"
        send(resp, state.jobs.get(job.id), 201)


class Job(Resource):
    path = "/api/jobs/{id}"

    def on_get(self, req: falcon.Request, resp: falcon.Response, id: int) -> None:
        job = self.api.state.jobs.get(id)
        if job is None:
            raise NotFound(f"no job {id}", field="id", rule="exists")
        send(resp, job)


class Applications(Resource):
    path = "/api/jobs/{id}/applications"

    def on_post(self, req: falcon.Request, resp: falcon.Response, id: int) -> None:
        a = req.context.args
        state = self.api.state
        with state.writes:
            application = state.store.market.apply(id, a["freelancer_id"], a["cover_letter"],
                                                   a["bid"])
        send(resp, {"id": application.id, "job_id": application.job_id,
                    "freelancer_id": application.freelancer_id,
                    "status": str(application.status), "cover_letter": application.cover_letter,
                    "bid": None if application.bid is None else str(application.bid),
                    "created_at": application.created_at.isoformat()}, 201)


class UserStats(Resource):
    path = "/api/users/{id}/stats"

    def on_get(self, req: falcon.Request, resp: falcon.Response, id: int) -> None:
        send(resp, self.api.state.store.queries.user_stats(id).to_json())


class SyncStatus(Resource):
    path = "/api/sync/status"

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        send(resp, self.api.state.store.sync.status().to_json())


class SyncFailed(Resource):
    path = "/api/sync/failed"

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        a = req.context.args
        send(resp, self.api.state.store.sync.failed(a["service"], a["error"], a["limit"],
                                                    a["before"]).to_json())


def actor(req: falcon.Request, via: str = "api") -> Actor:
    principal = req.context.principal
    return Actor(principal.token_id, principal.name, req.remote_addr,
                 (req.user_agent or "")[:1000] or None, via)


class SyncBlocked(Resource):
    path = "/api/sync/blocked"

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        keys = self.api.state.operations.blocked_keys(req.context.args["limit"])
        send(resp, {"items": [key.to_json() for key in keys]})


class SyncDelayed(Resource):
    path = "/api/sync/delayed"

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        events = self.api.state.operations.delayed(req.context.args["limit"])
        send(resp, {"items": [event.to_json() for event in events]})


class SyncThroughput(Resource):
    path = "/api/sync/throughput"

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        minutes = self.api.state.store.sync.throughput.last_hour()
        send(resp, {"minutes": [{"minute": minute.isoformat(), "completed": count}
                                for minute, count in minutes]})


class SyncAction(Resource):
    """POST an action on events; the body is checked by the route table."""

    def act(self, ops: Operations, args: dict[str, Any], who: Actor) -> int:
        raise NotImplementedError

    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        state = self.api.state
        with state.writes:
            count = self.act(state.operations, req.context.args, actor(req))
        send(resp, {"count": count})


class SyncRetry(SyncAction):
    path = "/api/sync/retry"

    def act(self, ops: Operations, args: dict[str, Any], who: Actor) -> int:
        return ops.retry(args["ids"], who)


class SyncRetryMatching(SyncAction):
    path = "/api/sync/retry-matching"

    def act(self, ops: Operations, args: dict[str, Any], who: Actor) -> int:
        return ops.retry_matching(args["service"], args["error"], who)


class SyncDiscard(SyncAction):
    path = "/api/sync/discard"

    def act(self, ops: Operations, args: dict[str, Any], who: Actor) -> int:
        return ops.discard(args["ids"], args["reason"], who)


class SyncRunNow(SyncAction):
    path = "/api/sync/run-now"

    def act(self, ops: Operations, args: dict[str, Any], who: Actor) -> int:
        return ops.run_now(args["ids"], who)


class Kyc(Resource):
    path = "/api/kyc/{user_id}"

    def on_get(self, req: falcon.Request, resp: falcon.Response, user_id: int) -> None:
        send(resp, self.api.state.store.queries.kyc_lookup(user_id=user_id).to_json())


class Metrics(Resource):
    path = "/metrics"

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        from .metrics import CONTENT_TYPE

        resp.content_type = CONTENT_TYPE
        resp.data = self.api.metrics.render(self.api.state.store.sync.status)


class OpenApi(Resource):
    path = "/openapi.json"

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        resp.data = self.api.document_bytes


RESOURCES: tuple[type[Resource], ...] = (Health, Jobs, Job, Applications, UserStats, SyncStatus,
                                         SyncFailed, SyncBlocked, SyncDelayed, SyncThroughput,
                                         SyncRetry, SyncRetryMatching, SyncDiscard, SyncRunNow,
                                         Kyc, Metrics, OpenApi)
