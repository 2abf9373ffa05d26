"""The route table and the OpenAPI 3.0 document built from it.

``ROUTES`` is the one list of what the API serves: method, path, scope, query
and body specs, the success response and the errors. ``create_app`` mounts the
routes and checks inputs from it, and ``document()`` publishes it, so the
document cannot drift from the app (a test compares both with falcon's router).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ..market.applications import COVER_LETTER_MAX_LENGTH
from ..market.jobs import DESCRIPTION_MAX_LENGTH, MAX_SKILLS, SKILL_MAX_LENGTH, TITLE_MAX_LENGTH
from ..models.marketplace import JobStatus
from ..money import CURRENCIES
from ..queries import MAX_LIMIT, MAX_TEXT
from ..queries import MAX_SKILLS as MAX_SEARCH_SKILLS
from ..sync.deadletters import DEFAULT_LIMIT as DEFAULT_FAILED_LIMIT
from ..sync.deadletters import MAX_ERROR_FILTER
from ..sync.deadletters import MAX_LIMIT as MAX_FAILED_LIMIT
from ..sync.operations import MAX_IDS as MAX_ACTION_IDS
from ..sync.operations import MAX_REASON
from .spec import Body, Field, Integer, List, Money, Param, Query, Text, enum_of

ID = Integer(description="A positive 32-bit id.")
MAX_STATUS_ROUTES = 100
#: Event ids in query strings: up to 12 digits, what ``Integer.parse_query`` reads.
MAX_EVENT_ID = 999_999_999_999

SEARCH_QUERY = Query({
    "text": Param(Text(max_length=MAX_TEXT),
                  description="Words to find in OPEN jobs; title matches come first."),
    "skill": Param(List(Text(min_length=1, max_length=SKILL_MAX_LENGTH),
                        max_items=MAX_SEARCH_SKILLS), repeated=True,
                   description="A skill every job must have (repeatable)."),
    "skills": Param(Text(max_length=MAX_SEARCH_SKILLS * (SKILL_MAX_LENGTH + 1)),
                    description="Skills, comma-separated (combined with `skill`; "
                                f"at most {MAX_SEARCH_SKILLS} in all)."),
    "status": Param(enum_of([s.value for s in JobStatus]), default="OPEN",
                    description="Job status (text search covers OPEN jobs only)."),
    "min_budget": Param(Money(), description="Lowest budget, in major units."),
    "max_budget": Param(Money(), description="Highest budget, in major units."),
    "currency": Param(enum_of(CURRENCIES), description="Budget currency."),
    "limit": Param(Integer(1, MAX_LIMIT), default=20, description="Page size."),
    "cursor": Param(Text(max_length=1000),
                    description="`next_cursor` of the previous page of the same search."),
})

FAILED_QUERY = Query({
    "service": Param(Text(min_length=1, max_length=64), description="Only this service's events."),
    "error": Param(Text(min_length=1, max_length=MAX_ERROR_FILTER),
                   description="Only events whose last error contains this text (any case)."),
    "limit": Param(Integer(1, MAX_FAILED_LIMIT), default=DEFAULT_FAILED_LIMIT,
                   description="Page size."),
    "before": Param(Integer(1, MAX_EVENT_ID),
                    description="`next_before` of the previous page: events with a smaller id."),
})

STATUS_QUERY = Query({
    "route": Param(List(Text(min_length=3, max_length=500), max_items=MAX_STATUS_ROUTES),
                   repeated=True,
                   description="A route your workers run with, SERVICE=HANDLER[:ARG] as for "
                               "`sync worker --route` (repeatable): services with pending "
                               "events and no handler among them are listed as `unrouted`. "
                               "None: the default routing (a handler named like the "
                               "service)."),
})

LIMIT_QUERY = Query({"limit": Param(Integer(1, 100), default=20, description="How many.")})
EVENT_IDS = List(Integer(1, MAX_EVENT_ID), max_items=MAX_ACTION_IDS,
                 description=f"Event ids (at most {MAX_ACTION_IDS}).")
IDS_BODY = Body({"ids": Field(EVENT_IDS, required=True)}, name="EventIds")
DISCARD_BODY = Body({
    "ids": Field(EVENT_IDS, required=True),
    "reason": Field(Text(min_length=1, max_length=MAX_REASON,
                         description="Why (kept in the security event)."), required=True),
}, name="Discard")
MATCHING_BODY = Body({
    "service": Field(Text(min_length=1, max_length=64), nullable=True),
    "error": Field(Text(min_length=1, max_length=MAX_ERROR_FILTER), nullable=True),
}, name="RetryMatching")

JOB_BODY = Body({
    "client_id": Field(ID, required=True),
    "title": Field(Text(min_length=1, max_length=TITLE_MAX_LENGTH), required=True),
    "description": Field(Text(max_length=DESCRIPTION_MAX_LENGTH), default=""),
    "budget": Field(Money(description='Major units: "250.00" or 250.', positive=True),
                    required=True),
    "currency": Field(enum_of(CURRENCIES), required=True),
    "skills": Field(List(Text(min_length=1, max_length=SKILL_MAX_LENGTH), max_items=MAX_SKILLS),
                    default=()),
}, name="NewJob")

APPLICATION_BODY = Body({
    "freelancer_id": Field(ID, required=True),
    "cover_letter": Field(Text(max_length=COVER_LETTER_MAX_LENGTH), default=""),
    "bid": Field(Money(description="In the job's currency.", positive=True), nullable=True),
}, name="NewApplication")


@dataclass(frozen=True)
class Route:
    method: str
    path: str  # the OpenAPI path; path parameters are ids
    operation_id: str
    summary: str
    scope: str | None  # None: open (see ``loopback_only``)
    response: str | None  # a schema in components, or None for a non-JSON body
    status: int = 200
    query: Query | None = None
    body: Body | None = None
    path_params: Mapping[str, Integer] = field(default_factory=dict)
    conflicts: bool = False  # may answer 409
    database: bool = True  # may answer 503 when the database is busy or down
    loopback_only: bool = False  # open to loopback clients, else needs ``scope``
    media_type: str = "application/json"

    @property
    def label(self) -> str:
        return f"{self.method} {self.path}"

    @property
    def takes_consistency_token(self) -> bool:
        """The API's reads take the header (see azora_store/replicas/http.py)."""
        return self.method == "GET" and self.path.startswith("/api/")

    def error_statuses(self) -> list[int]:
        statuses = set()
        if self.scope is not None:
            statuses |= {401, 403}
        if self.path_params:
            statuses.add(404)
        if (self.query is not None and self.query.params) or self.takes_consistency_token:
            statuses.add(422)  # (an Azora-Consistency-Token that is no WAL position)
        if self.body is not None:
            statuses |= {400, 413, 415, 422}
        if self.conflicts:
            statuses.add(409)
        if self.database:
            statuses.add(503)
        return sorted(statuses)


ROUTES: tuple[Route, ...] = (
    Route("GET", "/healthz", "health", "Liveness and database reachability", None, "Health"),
    Route("GET", "/api/jobs", "searchJobs", "Search jobs (keyset pages, newest first)", "read",
          "SearchPage", query=SEARCH_QUERY),
    Route("POST", "/api/jobs", "postJob", "Post an OPEN job (queues its outbox events)",
          "write", "Job", status=201, body=JOB_BODY),
    Route("GET", "/api/jobs/{id}", "getJob", "A job with its skills", "read", "Job",
          path_params={"id": ID}),
    Route("POST", "/api/jobs/{id}/applications", "applyToJob",
          "Apply to an OPEN job (once per freelancer, never to one's own job)", "write",
          "Application", status=201, body=APPLICATION_BODY, path_params={"id": ID},
          conflicts=True),
    Route("GET", "/api/users/{id}/stats", "userStats", "A user's statistics", "read",
          "UserStats", path_params={"id": ID}),
    Route("GET", "/api/sync/status", "syncStatus",
          "Outbox counts per status and service; services no given route delivers",
          "read", "SyncStatus", query=STATUS_QUERY),
    Route("GET", "/api/sync/failed", "syncFailed",
          "Dead-lettered (FAILED) outbox events, newest first (keyset pages)", "read",
          "FailedPage", query=FAILED_QUERY),
    Route("GET", "/api/sync/blocked", "syncBlocked",
          "Ordering keys whose events wait behind an unfinished head", "read", "BlockedKeys",
          query=LIMIT_QUERY),
    Route("GET", "/api/sync/delayed", "syncDelayed",
          "PENDING events waiting for their time (retry backoff), soonest first", "read",
          "DelayedEvents", query=LIMIT_QUERY),
    Route("GET", "/api/sync/throughput", "syncThroughput",
          "Events completed per minute over the last hour (kept by workers)", "read",
          "Throughput"),
    Route("POST", "/api/sync/retry", "syncRetry",
          "Queue these dead letters again (a security event records it)", "operator",
          "ActionResult", body=IDS_BODY),
    Route("POST", "/api/sync/retry-matching", "syncRetryMatching",
          "Queue again every dead letter matching service and/or error text", "operator",
          "ActionResult", body=MATCHING_BODY),
    Route("POST", "/api/sync/discard", "syncDiscard",
          "Delete these dead letters for good, with a reason (a security event)",
          "operator", "ActionResult", body=DISCARD_BODY),
    Route("POST", "/api/sync/run-now", "syncRunNow",
          "Make these delayed PENDING events claimable now", "operator", "ActionResult",
          body=IDS_BODY),
    Route("GET", "/api/kyc/{user_id}", "kycLookup",
          "A user's KYC record, document number masked", "compliance", "KycRecord",
          path_params={"user_id": ID}),
    Route("GET", "/metrics", "metrics", "Prometheus metrics (text exposition format)", "read",
          None, loopback_only=True, media_type="text/plain"),
    Route("GET", "/openapi.json", "openapi", "This document", None, None, database=False),
)

# -- schemas -------------------------------------------------------------------------

_STRING = {"type": "string"}
_TIME = {"type": "string", "description": "ISO-8601, naive UTC"}
_MONEY_OUT = {"type": "string", "pattern": r"^-?[0-9]+\.[0-9]{2}$",
              "description": "Major units with two decimals"}


def _nullable(schema: dict[str, Any]) -> dict[str, Any]:
    return {**schema, "nullable": True}


def _object(properties: dict[str, Any]) -> dict[str, Any]:
    return {"type": "object", "properties": properties, "required": list(properties),
            "additionalProperties": False}


_INT = {"type": "integer"}
_COUNT = {"type": "integer", "minimum": 0}
_JOB_STATUS = {"type": "string", "enum": [s.value for s in JobStatus]}
_CURRENCY = {"type": "string", "enum": list(CURRENCIES)}

SCHEMAS: dict[str, Any] = {
    "Error": {"type": "object", "required": ["error"], "additionalProperties": False,
              "properties": {"error": {
                  "type": "object", "required": ["code", "message"],
                  "additionalProperties": False,
                  "properties": {"code": _STRING, "message": _STRING, "field": _STRING}}}},
    "Health": _object({"status": {"type": "string", "enum": ["ok"]}}),
    "JobHit": _object({
        "id": _INT, "title": _STRING, "status": _JOB_STATUS, "budget": _MONEY_OUT,
        "currency": _CURRENCY, "created_at": _TIME, "client_id": _INT,
        "skills": {"type": "array", "items": _STRING}}),
    "SearchPage": _object({
        "items": {"type": "array", "items": {"$ref": "#/components/schemas/JobHit"}},
        "next_cursor": _nullable(_STRING)}),
    "Job": _object({
        "id": _INT, "client_id": _INT, "freelancer_id": _nullable(_INT), "title": _STRING,
        "description": _STRING, "status": _JOB_STATUS, "budget": _MONEY_OUT,
        "currency": _CURRENCY, "skills": {"type": "array", "items": _STRING},
        "created_at": _TIME, "updated_at": _TIME, "closed_at": _nullable(_TIME)}),
    "Application": _object({
        "id": _INT, "job_id": _INT, "freelancer_id": _INT, "status": _STRING,
        "cover_letter": _STRING, "bid": _nullable(_MONEY_OUT), "created_at": _TIME}),
    "UserStats": _object({
        "user_id": _INT, "enrollments": _COUNT, "courses_completed": _COUNT,
        "jobs_posted": _COUNT, "jobs_completed": _COUNT, "applications": _COUNT,
        "reviews_received": _COUNT, "average_rating": _nullable(_STRING),
        "earnings": {"type": "object", "additionalProperties": _MONEY_OUT,
                     "description": "Currency -> amount earned (never added across "
                                    "currencies)"}}),
    "SyncStatus": _object({
        "counts": {"type": "object", "additionalProperties": _COUNT},
        "services": {"type": "object",
                     "additionalProperties": {"type": "object",
                                              "additionalProperties": _COUNT}},
        "total": _COUNT, "oldest_pending_at": _nullable(_TIME),
        "oldest_pending_age_seconds": _nullable({"type": "number", "minimum": 0}),
        "routes": {"type": "object", "additionalProperties": _STRING,
                   "description": "The `route` parameters read: service -> handler"},
        "unrouted": {"type": "object", "additionalProperties": _COUNT,
                     "description": "Service -> PENDING events, for services with pending "
                                    "events that no given route (or default handler) "
                                    "delivers: they stay PENDING until a route is added"}}),
    "FailedEvent": _object({
        "id": _INT, "service": _STRING, "entity_type": _STRING, "entity_id": _STRING,
        "ordering_key": _STRING, "attempts": _COUNT, "max_attempts": _INT,
        "last_error": _nullable(_STRING), "failed_at": _TIME, "created_at": _TIME}),
    "FailedPage": _object({
        "items": {"type": "array", "items": {"$ref": "#/components/schemas/FailedEvent"}},
        "next_before": _nullable({**_INT, "description": "Pass as `before` for the next "
                                                        "page; null on the last page"})}),
    "BlockedKeys": _object({"items": {"type": "array", "items": _object({
        "ordering_key": _STRING, "waiting": _COUNT,
        "head": _nullable(_object({"id": _INT, "status": _STRING, "service": _STRING,
                                   "attempts": _COUNT, "last_error": _nullable(_STRING)}))})}}),
    "DelayedEvents": _object({"items": {"type": "array", "items": _object({
        "id": _INT, "service": _STRING, "entity_type": _STRING, "entity_id": _STRING,
        "attempts": _COUNT, "max_attempts": _INT, "available_at": _TIME,
        "last_error": _nullable(_STRING)})}}),
    "Throughput": _object({"minutes": {"type": "array", "items": _object({
        "minute": _TIME, "completed": _COUNT})}}),
    "ActionResult": _object({"count": {**_COUNT, "description": "Events changed"}}),
    "KycRecord": _object({
        "user_id": _INT, "status": _STRING, "risk_level": _nullable(_STRING),
        "document_type": _STRING,
        "document_masked": {"type": "string", "description": "Only the last digits show"},
        "country": _nullable(_STRING), "submitted_at": _TIME, "reviewed_at": _nullable(_TIME),
        "expires_at": _nullable(_TIME), "others_with_document": _COUNT}),
}

REASONS = {200: "OK", 201: "Created", 400: "Malformed JSON body",
           401: "Missing, unknown or revoked bearer token",
           403: "The token lacks the scope this route needs",
           404: "No such row (or it is soft-deleted)", 409: "Conflicts with the current state",
           413: "Body larger than the limit", 415: "Body is not application/json",
           422: "A parameter or field breaks a rule (the error names it)",
           503: "The database is busy or unreachable: retry after Retry-After seconds"}


TOKEN_HEADER = "Azora-Consistency-Token"
CONSISTENCY_PARAMETER: dict[str, Any] = {
    "name": TOKEN_HEADER, "in": "header", "required": False,
    "schema": {"type": "string", "pattern": "^[0-9A-Fa-f]{1,8}/[0-9A-Fa-f]{1,8}$"},
    "description": "The token a write answered with: the read then sees that write "
                   "(served by a replica only once it has replayed it)."}
CONSISTENCY_RESPONSE: dict[str, Any] = {
    "schema": {"type": "string"},
    "description": "With read replicas: the primary's WAL position after this write; send "
                   "it back on reads to see the write."}


def _error_response(status: int) -> dict[str, Any]:
    response: dict[str, Any] = {"description": REASONS[status], "content": {
        "application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}
    if status == 503:
        response["headers"] = {"Retry-After": {"schema": {"type": "integer"}}}
    return response


def _operation(route: Route) -> dict[str, Any]:
    if route.response is not None:
        body_schema: dict[str, Any] = {"$ref": f"#/components/schemas/{route.response}"}
    elif route.media_type == "application/json":
        body_schema = {"type": "object"}
    else:
        body_schema = {"type": "string"}
    responses: dict[str, Any] = {str(route.status): {
        "description": REASONS[route.status],
        "content": {route.media_type: {"schema": body_schema}}}}
    for status in route.error_statuses():
        responses[str(status)] = _error_response(status)
    operation: dict[str, Any] = {"operationId": route.operation_id, "summary": route.summary,
                                 "responses": responses}
    parameters = [{"name": name, "in": "path", "required": True, "schema": spec.schema()}
                  for name, spec in route.path_params.items()]
    if route.query is not None:
        parameters += route.query.openapi()
    if route.takes_consistency_token:
        parameters.append(CONSISTENCY_PARAMETER)
    elif route.method == "POST" and route.status < 300:
        responses[str(route.status)]["headers"] = {TOKEN_HEADER: CONSISTENCY_RESPONSE}
    if parameters:
        operation["parameters"] = parameters
    if route.body is not None:
        operation["requestBody"] = {"required": True, "content": {"application/json": {
            "schema": {"$ref": f"#/components/schemas/{route.body.name}"}}}}
    if route.scope is None:
        operation["security"] = []
    elif route.loopback_only:
        operation["security"] = [{}, {"bearer": []}]
        operation["description"] = (f"Open to loopback clients; others need a token with the "
                                    f"`{route.scope}` scope.")
    else:
        operation["security"] = [{"bearer": []}]
        operation["description"] = f"Needs a token with the `{route.scope}` scope."
    operation["x-scope"] = route.scope
    return operation


def document(routes: tuple[Route, ...] = ROUTES) -> dict[str, Any]:
    """The OpenAPI 3.0 document of ``routes``."""
    from .. import __version__

    paths: dict[str, dict[str, Any]] = {}
    for route in routes:
        paths.setdefault(route.path, {})[route.method.lower()] = _operation(route)
    schemas = dict(SCHEMAS)
    for route in routes:
        if route.body is not None:
            schemas[route.body.name] = route.body.schema()
    return {
        "openapi": "3.0.3",
        "info": {"title": "azora_store API", "version": __version__,
                 "description": "Jobs, applications, user statistics, outbox status and KYC "
                                "look-ups over the azora_store engine. Errors are "
                                '`{"error": {"code", "message", "field"?}}`.'},
        "paths": paths,
        "components": {"schemas": schemas,
                       "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}}},
        "security": [{"bearer": []}],
    }
