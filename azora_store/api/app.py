"""The WSGI app (falcon): ``create_app(store_factory)``.

Every request goes through one middleware that, from the route table
(``openapi.ROUTES``), checks the bearer token's scope, parses and checks the
query or JSON body, and afterwards records the request's metrics and hands a
pooled database connection back to the pool.

Errors are JSON ``{"error": {"code", "message", "field"?}}``. The package's
errors map to HTTP statuses in one place (``STATUS``); anything unexpected is a
500 that names nothing internal (the traceback goes to the log).
"""

from __future__ import annotations

import ipaddress
import logging
import threading
import time
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import falcon

from ..errors import AzoraError, Forbidden
from ..replicas.http import ConsistencyMiddleware
from ..support import jsonutil
from ..sync.operations import Operations
from .auth import CACHE_SECONDS, Tokens
from .converters import IdConverter
from .dashboard import DASHBOARD_RESOURCES
from .metrics import Metrics
from .openapi import ROUTES, Route, document
from .resources import RESOURCES, JobReader, Resource
from .spec import PATH_ID_CONVERTER, path_template

if TYPE_CHECKING:
    from ..store import Store

log = logging.getLogger("azora_store.api")

#: Largest request body: every body the schema allows fits, even fully \\u-escaped.
BODY_LIMIT = 256 * 1024
RETRY_AFTER = "1"

#: The package's error codes -> HTTP status. Unlisted codes (configuration,
#: schema, database, error) are server faults: 500.
STATUS: dict[str, int] = {
    "validation": 422,
    "not_found": 404,
    "conflict": 409,
    "invalid_transition": 409,
    "insufficient_funds": 409,
    "forbidden": 403,
    "busy": 503,
    "unavailable": 503,
}
#: Rules whose ValidationError is a clash with the current state, not a bad input:
#: applying to one's own job (the workflow raises it as a ValidationError).
CONFLICT_RULES = frozenset({"not_client"})

HTTP_CODES = {400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found",
              405: "method_not_allowed", 406: "not_acceptable", 409: "conflict",
              411: "length_required", 413: "too_large", 414: "uri_too_long",
              415: "unsupported_media_type", 422: "validation", 431: "headers_too_large",
              500: "internal", 503: "unavailable"}
WWW_AUTHENTICATE = 'Bearer realm="azora"'


class ApiError(Exception):
    """An error of the HTTP layer itself (auth, body framing)."""

    def __init__(self, status: int, code: str, message: str,
                 headers: dict[str, str] | None = None):
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.headers = headers or {}


def error_body(code: str, message: str, field: str | None = None) -> bytes:
    error = {"code": code, "message": message}
    if field is not None:
        error["field"] = field
    return jsonutil.dumps({"error": error}).encode()


def status_for(exc: AzoraError, route: Route | None) -> tuple[int, str]:
    """The HTTP status and error code of a package error raised serving ``route``."""
    status = STATUS.get(exc.code, 500)
    if status == 422 and exc.rule in CONFLICT_RULES:
        return 409, "conflict"
    if status == 404 and route is not None and route.body is not None and \
            exc.field in route.body.fields:
        return 422, exc.code  # a row the body refers to is missing: the body is at fault
    return status, exc.code


def _is_loopback(address: str) -> bool:
    try:
        return ipaddress.ip_address(address).is_loopback
    except ValueError:
        return False


@dataclass
class State:
    """What a worker opens once, after fork: the store and what hangs off it."""

    store: Store
    tokens: Tokens
    jobs: JobReader
    pooled: bool  # the store's connections come from a pool (Postgres)
    release: bool  # hand the connection back to the pool after every request
    #: Held around each write workflow. Where the database has a single writer
    #: (no row locks), a thread waits for its turn here, woken the moment the
    #: writer before it commits, instead of in the database's busy handler, which
    #: polls in growing sleeps (SQLite: 1, 2, 5 ... 100 ms).
    writes: AbstractContextManager[Any]
    operations: Operations  # the operator's actions and views of the outbox


class Api:
    def __init__(self, store_factory: Callable[[], Any], auth_cache_seconds: float,
                 body_limit: int, release_connections: bool):
        self._factory = store_factory
        self._release_connections = release_connections
        self._auth_cache_seconds = auth_cache_seconds
        self._lock = threading.Lock()
        self._state: State | None = None
        self.body_limit = body_limit
        self.metrics = Metrics()
        self.document_bytes = jsonutil.dumps(document()).encode()

    @property
    def state(self) -> State:
        state = self._state
        return state if state is not None else self._open()

    def _open(self) -> State:
        with self._lock:
            if self._state is None:
                store = self._factory()
                single_writer = not store.backend.supports_row_locks
                pooled = store.backend.pools_connections
                self._state = State(store, Tokens(store, self._auth_cache_seconds),
                                    JobReader(store), pooled=pooled,
                                    release=pooled and self._release_connections,
                                    writes=threading.Lock() if single_writer else nullcontext(),
                                    operations=Operations(store))
            return self._state

    # -- per request -------------------------------------------------------------------

    def authorize(self, req: falcon.Request, scope: str) -> None:
        header = req.get_header("Authorization")
        if not header:
            raise ApiError(401, "unauthorized", "send the header Authorization: Bearer <token>",
                           {"WWW-Authenticate": WWW_AUTHENTICATE})
        kind, _, token = header.partition(" ")
        principal = (self.state.tokens.authenticate(token.strip())
                     if kind.lower() == "bearer" else None)
        if principal is None:
            raise ApiError(401, "unauthorized", "the bearer token is unknown or revoked",
                           {"WWW-Authenticate": WWW_AUTHENTICATE + ', error="invalid_token"'})
        if scope not in principal.scopes:
            raise Forbidden(f"this token lacks the {scope!r} scope", rule="scope")
        req.context.principal = principal

    def read_json(self, req: falcon.Request) -> Any:
        media = (req.content_type or "").partition(";")[0].strip().lower()
        if media != "application/json" and not media.endswith("+json"):
            raise ApiError(415, "unsupported_media_type",
                           "send the body as JSON with Content-Type: application/json")
        length = req.content_length
        if length is not None and length > self.body_limit:
            raise ApiError(413, "too_large", f"the body is larger than {self.body_limit} bytes")
        # A chunked body has no length: read it where the server says it ends.
        chunked = length is None and req.env.get("wsgi.input_terminated")
        raw = (req.stream if chunked else req.bounded_stream).read(self.body_limit + 1)
        if len(raw) > self.body_limit:
            raise ApiError(413, "too_large", f"the body is larger than {self.body_limit} bytes")
        if not raw.strip():
            raise ApiError(400, "invalid_json", "a JSON body is required")
        try:
            return jsonutil.loads(raw)
        except (ValueError, RecursionError) as exc:
            raise ApiError(400, "invalid_json",
                           f"the body is not valid JSON: {str(exc)[:200]}") from None


class Middleware:
    def __init__(self, api: Api):
        self.api = api

    def process_request(self, req: falcon.Request, resp: falcon.Response) -> None:
        req.context.started = time.perf_counter()
        req.context.route = None

    def process_resource(self, req: falcon.Request, resp: falcon.Response, resource: Any,
                         params: dict[str, Any]) -> None:
        route = resource.routes.get(req.method) if resource is not None else None
        if route is None:
            return  # 405 follows
        req.context.route = route
        if route.scope is not None and not (route.loopback_only and
                                            _is_loopback(req.remote_addr)):
            self.api.authorize(req, route.scope)
        if route.query is not None:
            req.context.args = route.query.parse(req.params)
        elif route.body is not None:
            req.context.args = route.body.parse(self.api.read_json(req))

    def process_response(self, req: falcon.Request, resp: falcon.Response, resource: Any,
                         req_succeeded: bool) -> None:
        route = req.context.route
        if route is not None:
            label = route.label
        else:
            label = f"{req.method} {resource.path}" if resource is not None else "unmatched"
        self.api.metrics.observe(label, req.method, resp.status_code,
                                 time.perf_counter() - req.context.started)
        state = self.api._state
        if state is not None and state.pooled and (state.release or resp.status_code >= 500):
            state.store.db.close()  # a failed request's connection may be broken: drop it


# -- error handlers ------------------------------------------------------------------------


def _handle_api_error(req: falcon.Request, resp: falcon.Response, exc: ApiError,
                      params: Any) -> None:
    resp.status = exc.status
    for name, value in exc.headers.items():
        resp.set_header(name, value)
    resp.data = error_body(exc.code, exc.message)


def _handle_azora_error(req: falcon.Request, resp: falcon.Response, exc: AzoraError,
                        params: Any) -> None:
    status, code = status_for(exc, getattr(req.context, "route", None))
    resp.status = status
    if status >= 500:
        if status == 503:
            resp.set_header("Retry-After", RETRY_AFTER)
            resp.data = error_body(code, "the database is busy or unreachable; retry")
        else:
            log.error("%s %s failed: %s", req.method, req.path, exc, exc_info=exc)
            resp.data = error_body("internal", "internal error")
        return
    resp.data = error_body(code, exc.message, exc.field)


def _handle_unexpected(req: falcon.Request, resp: falcon.Response, exc: Exception,
                       params: Any) -> None:
    log.error("%s %s failed", req.method, req.path, exc_info=exc)
    resp.status = 500
    resp.data = error_body("internal", "internal error")


def _serialize_http_error(req: falcon.Request, resp: falcon.Response,
                          exc: falcon.HTTPError) -> None:
    """falcon's own errors (no route, wrong method, bad headers) in our shape."""
    resp.content_type = falcon.MEDIA_JSON
    status = exc.status_code
    resp.data = error_body(HTTP_CODES.get(status, "error"),
                           exc.description or exc.title or "request refused")


class App(falcon.App):
    """falcon's App, with ``api`` (state, metrics, tokens) reachable for the server
    and the tests."""

    api: Api


def create_app(store_factory: Callable[[], Any], *, auth_cache_seconds: float = CACHE_SECONDS,
               body_limit: int = BODY_LIMIT, release_connections: bool = True) -> App:
    """The API over the store ``store_factory()`` returns (called once, on the first
    request, so a server can fork first and open the store in each worker).

    ``release_connections``: with a pooled store, hand each request's connection
    back to the pool when it ends, so any number of threads share the pool. A
    server whose threads all fit in the pool passes False: each thread then
    keeps its connection, which saves the pool's liveness round trip (a
    ``SELECT 1`` on every check-out) per request. A request that fails with a
    5xx always gives its connection back, so a broken one is replaced."""
    api = Api(store_factory, auth_cache_seconds, body_limit, release_connections)
    app = App(middleware=[Middleware(api), ConsistencyMiddleware(api)])
    app.router_options.converters[PATH_ID_CONVERTER] = IdConverter
    resources: dict[str, Resource] = {cls.path: cls(api) for cls in RESOURCES}
    for route in ROUTES:
        resources[route.path].routes[route.method] = route
    for path, resource in resources.items():
        route = next(iter(resource.routes.values()))
        app.add_route(path_template(path, route.path_params), resource)
    for page in DASHBOARD_RESOURCES:  # HTML, signed in by cookie: not in the API document
        app.add_route(page.path, page(api))
    app.add_error_handler(Exception, _handle_unexpected)
    app.add_error_handler(AzoraError, _handle_azora_error)
    app.add_error_handler(ApiError, _handle_api_error)
    app.set_error_serializer(_serialize_http_error)
    app.api = api
    return app


__all__ = ["BODY_LIMIT", "STATUS", "Api", "ApiError", "App", "create_app", "status_for"]
