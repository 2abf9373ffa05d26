"""The HTTP API on both backends (falcon's TestClient on ``create_app``): every
route's happy path, 401, 403, 404 and bad input; bad input changes nothing;
writes queue their outbox events; errors keep one shape."""

from __future__ import annotations

import io
import json
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import falcon.inspect
import pytest
from click.testing import CliRunner
from falcon.testing import TestClient

from azora_store.api.app import BODY_LIMIT, create_app
from azora_store.api.auth import Tokens, hash_token
from azora_store.api.openapi import ROUTES, document
from azora_store.cli import cli
from azora_store.errors import DatabaseBusy
from azora_store.models import TABLES
from azora_store.store import Store
from tests.helpers import fingerprint, sql

# api_tokens is left out: authenticating refreshes a token's last_used_at.
DATA_TABLES = [m._meta.table_name for m in TABLES if m._meta.table_name != "api_tokens"]
DOCUMENT_NUMBER = "AB1234567"


@dataclass
class World:
    store: Store
    client: TestClient  # no Authorization header
    tokens: dict[str, str]  # scope name (or "all") -> token
    ann: int  # a client
    bob: int  # a freelancer with KYC
    cat: int  # another freelancer, no KYC
    job: int  # Ann's OPEN job

    def call(self, method: str, path: str, token: str | None = "all", **kwargs: Any) -> Any:
        headers = dict(kwargs.pop("headers", {}))
        if token is not None:
            headers["Authorization"] = f"Bearer {self.tokens.get(token, token)}"
        return self.client.simulate_request(method, path, headers=headers, **kwargs)


@pytest.fixture
def world(store: Store) -> World:
    m = store.market
    ann = m.create_user("ann@example.org", "Ann Client")
    bob = m.create_user("bob@example.org", "Bob Freelancer")
    cat = m.create_user("cat@example.org", "Cat Freelancer")
    job = m.post_job(ann.id, "Build a payments API", "REST and SQL", "250.00", "USD",
                     ["Python", "SQL"])
    store.compliance.submit_kyc(bob.id, "PASSPORT", DOCUMENT_NUMBER, "ZA")
    tokens = Tokens(store)
    issued = {scope: tokens.create(f"{scope}-token", [scope])[1]
              for scope in ("read", "write", "compliance", "operator")}
    issued["all"] = tokens.create("all-scopes", ["read", "write", "compliance", "operator"])[1]
    client = TestClient(create_app(lambda: store))
    return World(store, client, issued, ann.id, bob.id, cat.id, job.id)


@contextmanager
def unchanged(store: Store) -> Iterator[None]:
    before = fingerprint(store, DATA_TABLES)
    yield
    after = fingerprint(store, DATA_TABLES)
    assert after == before, [t for t in DATA_TABLES if after[t] != before[t]]


def error_of(response: Any) -> dict[str, Any]:
    assert response.headers["content-type"].startswith("application/json"), response.headers
    body = response.json
    assert set(body) == {"error"} and {"code", "message"} <= set(body["error"]), body
    return body["error"]


def outbox(store: Store, entity_type: str, entity_id: int) -> list[tuple]:
    return sql(store, "SELECT service, operation FROM service_sync WHERE entity_type = ? AND "
                      "entity_id = ? ORDER BY service", entity_type, str(entity_id))


# -- every route: the happy path ------------------------------------------------------------


def test_health_and_openapi_are_open(world: World) -> None:
    assert world.client.simulate_get("/healthz").json == {"status": "ok"}
    response = world.client.simulate_get("/openapi.json")
    assert response.status_code == 200 and response.json["openapi"].startswith("3.")


def test_search_jobs(world: World) -> None:
    m = world.store.market
    for n in range(3):
        m.post_job(world.ann, f"Design a logo {n}", "", f"{100 + n}.00", "EUR", ["design"])
    response = world.call("GET", "/api/jobs", token="read", params={"text": "payments"})
    assert response.status_code == 200
    items = response.json["items"]
    assert [hit["id"] for hit in items] == [world.job]
    assert items[0] == {"id": world.job, "title": "Build a payments API", "status": "OPEN",
                        "budget": "250.00", "currency": "USD", "client_id": world.ann,
                        "skills": ["python", "sql"], "created_at": items[0]["created_at"]}

    by_skill = world.call("GET", "/api/jobs", token="read",
                          query_string="skill=Python&skills=sql,%20").json["items"]
    assert [hit["id"] for hit in by_skill] == [world.job]
    by_budget = world.call("GET", "/api/jobs", token="read", params={
        "min_budget": "101", "max_budget": "102.00", "currency": "EUR"}).json["items"]
    assert [hit["budget"] for hit in by_budget] == ["102.00", "101.00"]

    seen, cursor = [], None
    while True:
        params = {"limit": "2", **({"cursor": cursor} if cursor else {})}
        page = world.call("GET", "/api/jobs", token="read", params=params).json
        seen += [hit["id"] for hit in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert len(seen) == 4 and len(set(seen)) == 4 and seen == sorted(seen, reverse=True)


def test_get_job(world: World) -> None:
    response = world.call("GET", f"/api/jobs/{world.job}", token="read")
    assert response.status_code == 200
    job = response.json
    assert job["id"] == world.job and job["skills"] == ["python", "sql"]
    assert job["description"] == "REST and SQL" and job["freelancer_id"] is None
    assert job["closed_at"] is None and job["budget"] == "250.00"


def test_post_job_queues_its_events(world: World) -> None:
    body = {"client_id": world.ann, "title": "Data pipeline", "description": "Airflow",
            "budget": 1200.5, "currency": "GBP", "skills": ["Airflow", "python", "Python"]}
    response = world.call("POST", "/api/jobs", token="write", json=body)
    assert response.status_code == 201, response.text
    job = response.json
    assert response.headers["location"] == f"/api/jobs/{job['id']}"
    assert job["budget"] == "1200.50" and job["currency"] == "GBP" and job["status"] == "OPEN"
    assert job["skills"] == ["airflow", "python"]
    assert world.call("GET", f"/api/jobs/{job['id']}", token="read").json == job
    assert outbox(world.store, "Job", job["id"]) == [("notifications", "CREATE"),
                                                      ("search", "CREATE")]


def test_apply_queues_its_event(world: World) -> None:
    path = f"/api/jobs/{world.job}/applications"
    response = world.call("POST", path, token="write",
                          json={"freelancer_id": world.bob, "cover_letter": "Hi", "bid": "240"})
    assert response.status_code == 201, response.text
    application = response.json
    assert application["job_id"] == world.job and application["freelancer_id"] == world.bob
    assert application["status"] == "PENDING" and application["bid"] == "240.00"
    assert outbox(world.store, "Application", application["id"]) == [
        ("notifications", "CREATE")]
    response = world.call("POST", path, token="write", json={"freelancer_id": world.cat})
    assert response.status_code == 201 and response.json["bid"] is None


def test_user_stats(world: World) -> None:
    world.store.market.apply(world.job, world.bob)
    response = world.call("GET", f"/api/users/{world.bob}/stats", token="read")
    assert response.status_code == 200
    assert response.json["user_id"] == world.bob and response.json["applications"] == 1
    assert world.call("GET", f"/api/users/{world.ann}/stats").json["jobs_posted"] == 1


def test_sync_status(world: World) -> None:
    response = world.call("GET", "/api/sync/status", token="read")
    assert response.status_code == 200
    status = response.json
    assert status == world.store.sync.status().to_json() | {
        "oldest_pending_age_seconds": status["oldest_pending_age_seconds"],
        "routes": {}, "unrouted": status["unrouted"]}
    assert status["total"] == sum(status["counts"].values()) > 0
    # No route given: the default routing (a handler named like the service).
    assert status["unrouted"] == {s: n for s, n in status["unrouted"].items()
                                  if status["services"][s]["PENDING"] == n > 0}


def test_sync_status_lists_unrouted_services_like_the_cli(world: World, db_url: str) -> None:
    store = world.store
    store.sync.enqueue("billing", "Job", 1, "UPDATE", {})
    store.sync.enqueue("billing", "Job", 2, "UPDATE", {})
    store.sync.enqueue("nowhere", "Job", 3, "UPDATE", {})
    pending = {service: counts["PENDING"]
               for service, counts in store.sync.status().services.items() if counts["PENDING"]}
    assert pending["billing"] == 2 and pending["nowhere"] == 1
    runner = CliRunner()
    for routes, unrouted in [
            ([], None),  # the default routing: whatever the CLI says too
            (["billing=noop"], {s: n for s, n in pending.items() if s != "billing"}),
            (["billing=noop", "nowhere=eventlog"],
             {s: n for s, n in pending.items() if s not in ("billing", "nowhere")}),
            (["*=noop"], {})]:
        query = "&".join(f"route={r}" for r in routes)
        response = world.call("GET", "/api/sync/status", token="read",
                              query_string=query or None)
        assert response.status_code == 200, response.text
        body = response.json
        assert unrouted is None or body["unrouted"] == unrouted
        assert body["routes"] == dict(r.split("=", 1) for r in routes)
        cli_args = ["sync", "status", "--json", "--db", db_url]
        for r in routes:
            cli_args += ["--route", r]
        printed = json.loads(runner.invoke(cli, cli_args, catch_exceptions=False).output)
        assert {k: printed[k] for k in ("routes", "unrouted")} == \
            {k: body[k] for k in ("routes", "unrouted")}
    # Bad input names the field and the rule, and changes nothing.
    with unchanged(store):
        for query in ("route=billing", "route=%3Dnoop", "route=ab"):
            refused = world.call("GET", "/api/sync/status", query_string=query)
            assert refused.status_code == 422, query
            assert error_of(refused)["field"] == "route", query


def test_kyc_shows_the_masked_number_only(world: World) -> None:
    response = world.call("GET", f"/api/kyc/{world.bob}", token="compliance")
    assert response.status_code == 200
    record = response.json
    assert record["user_id"] == world.bob and record["status"] == "PENDING"
    assert record["document_masked"].endswith("4567") and record["country"] == "ZA"
    assert DOCUMENT_NUMBER not in response.text and DOCUMENT_NUMBER[2:] not in response.text


def test_metrics_open_on_loopback_only(world: World) -> None:
    world.call("GET", "/api/sync/status")
    response = world.client.simulate_get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    text = response.text
    assert 'azora_http_requests_total{method="GET",route="GET /api/sync/status",' \
           'status="200"} 1.0' in text
    assert 'azora_http_request_duration_seconds_count{route="GET /api/sync/status"} 1.0' in text
    assert 'azora_outbox_events{status="PENDING"}' in text
    assert "azora_outbox_oldest_pending_age_seconds" in text

    remote = world.client.simulate_get("/metrics", remote_addr="203.0.113.9")
    assert remote.status_code == 401
    remote = world.call("GET", "/metrics", token="read", remote_addr="203.0.113.9")
    assert remote.status_code == 200


# -- auth ---------------------------------------------------------------------------------

PROTECTED = [route for route in ROUTES if route.scope is not None and not route.loopback_only]


def _request(world: World, route: Any) -> tuple[str, dict[str, Any]]:
    path = route.path.replace("{id}", str(world.job)).replace("{user_id}", str(world.bob))
    if route.path.startswith("/api/sync/") and route.method == "POST":
        return path, {"json": _sync_action_body(world, route.path)}
    if route.method == "POST" and "applications" in path:
        return path, {"json": {"freelancer_id": world.cat}}
    if route.method == "POST":
        return path, {"json": {"client_id": world.ann, "title": "T", "budget": "1",
                               "currency": "USD"}}
    return path, {}


def _sync_action_body(world: World, path: str) -> dict[str, Any]:
    """A valid body for an operator action: a fresh dead letter (or delayed event)."""
    if path.endswith("retry-matching"):
        return {"service": "nothing-matches"}
    if path.endswith("run-now"):
        return {"ids": [world.store.sync.enqueue("later", "Job", 1, "UPDATE", {},
                                                  delay=600).id]}
    event = world.store.sync.enqueue("dead", "Job", 1, "UPDATE", {})
    sql(world.store, "UPDATE service_sync SET status = 'FAILED', attempts = 3 WHERE id = ?",
        event.id)
    body: dict[str, Any] = {"ids": [event.id]}
    if path.endswith("discard"):
        body["reason"] = "test"
    return body


def test_missing_or_wrong_token_is_401(world: World) -> None:
    requests = [(route, *_request(world, route)) for route in PROTECTED]
    with unchanged(world.store):
        for route, path, kwargs in requests:
            for token in (None, "azs_not-a-token", "", "x" * 5000):
                response = world.call(route.method, path, token=token, **kwargs)
                assert response.status_code == 401, (route.label, token, response.text)
                assert error_of(response)["code"] == "unauthorized"
                assert response.headers["www-authenticate"].startswith("Bearer")
            basic = world.call(route.method, path, token=None, **kwargs,
                               headers={"Authorization": f"Basic {world.tokens['all']}"})
            assert basic.status_code == 401, route.label


def test_wrong_scope_is_403(world: World) -> None:
    for route in PROTECTED:
        path, kwargs = _request(world, route)
        with unchanged(world.store):
            for scope in ("read", "write", "compliance", "operator"):
                if scope == route.scope:
                    continue
                response = world.call(route.method, path, token=scope, **kwargs)
                assert response.status_code == 403, (route.label, scope, response.text)
                assert error_of(response)["code"] == "forbidden"
        assert world.call(route.method, path, token=route.scope, **kwargs).status_code < 300


def test_revoked_token_stops_working(world: World) -> None:
    store = world.store
    row, token = Tokens(store).create("short-lived", ["read"])
    client = TestClient(create_app(lambda: store, auth_cache_seconds=0))
    headers = {"Authorization": f"Bearer {token}"}
    assert client.simulate_get("/api/sync/status", headers=headers).status_code == 200
    assert sql(store, "SELECT last_used_at FROM api_tokens WHERE id = ?", row.id)[0][0]
    Tokens(store).revoke(row.id)
    assert client.simulate_get("/api/sync/status", headers=headers).status_code == 401


def test_only_the_hash_is_stored(world: World) -> None:
    rows = sql(world.store, "SELECT token_hash, scopes FROM api_tokens ORDER BY id")
    assert [hash_token(world.tokens[s]) for s in ("read", "write", "compliance", "operator",
                                                  "all")] == [r[0] for r in rows]
    assert rows[-1][1] == "compliance operator read write"
    for token in world.tokens.values():
        assert token.startswith("azs_") and len(token) > 40
        assert not sql(world.store, "SELECT 1 FROM api_tokens WHERE token_hash = ?", token)


def test_token_commands(db_url: str) -> None:
    runner = CliRunner()
    created = runner.invoke(cli, ["token", "create", "--name", "ci", "--scope", "read,write",
                                  "--db", db_url])
    assert created.exit_code == 0, created.output
    token = created.stdout.strip()
    assert token.startswith("azs_")
    listed = runner.invoke(cli, ["token", "list", "--db", db_url])
    assert "ci" in listed.output and "read write" in listed.output and token not in listed.output
    bad = runner.invoke(cli, ["token", "create", "--name", "x", "--scope", "admin",
                              "--db", db_url])
    assert bad.exit_code == 1 and "scopes must be one or more of" in bad.output
    revoked = runner.invoke(cli, ["token", "revoke", "ci", "--db", db_url])
    assert revoked.exit_code == 0 and "revoked 1 token(s)" in revoked.output
    again = runner.invoke(cli, ["token", "revoke", "ci", "--db", db_url])
    assert again.exit_code == 1
    assert "ci" not in runner.invoke(cli, ["token", "list", "--db", db_url]).output
    assert "ci" in runner.invoke(cli, ["token", "list", "--all", "--db", db_url]).output


def test_revoke_reads_only_ascii_digits_as_an_id(db_url: str) -> None:
    """"\uff11" (full-width 1) or "+1" name a token; they never revoke token 1."""
    from azora_store import open_store

    with open_store(db_url) as store:
        first = Tokens(store).create("first", ["read"])[0]
        odd = [Tokens(store).create(name, ["read"])[0] for name in ("\uff11", "+1")]
    runner = CliRunner()
    for row in odd:
        result = runner.invoke(cli, ["token", "revoke", row.name, "--db", db_url])
        assert result.exit_code == 0 and "revoked 1 token(s)" in result.output, result.output
    listed = runner.invoke(cli, ["token", "list", "--db", db_url]).output
    assert f"{first.id:>5}  first" in listed
    assert "\uff11" not in listed and "+1 " not in listed


# -- 404 -------------------------------------------------------------------------------


MISSING = ["/api/jobs/{missing}", "/api/users/{missing}/stats", "/api/kyc/{missing}",
           "/api/kyc/{cat}", "/api/jobs/{deleted}", "/api/jobs/0", "/api/jobs/-1",
           "/api/jobs/abc", "/api/jobs/99999999999999999999", "/api/users/2147483648/stats",
           "/api/nowhere", "/api/jobs/1/"]


def test_missing_rows_are_404(world: World) -> None:
    deleted = world.store.market.post_job(world.ann, "Gone", "", "5.00", "USD", []).id
    sql(world.store, "UPDATE jobs SET deleted_at = created_at WHERE id = ?", deleted)
    for path in MISSING:
        path = path.format(missing=10_000, cat=world.cat, deleted=deleted)
        response = world.call("GET", path)
        assert response.status_code == 404, (path, response.text)
        assert error_of(response)["code"] == "not_found"


def test_ids_in_paths_are_ascii_digits_only(world: World) -> None:
    """falcon's int converter reads what int() reads: +1, 1_0, full-width digits."""
    job, user = str(world.job), str(world.ann)
    wide = job.translate({ord(d): 0xFF10 + int(d) for d in "0123456789"})
    assert world.call("GET", f"/api/jobs/{job}").status_code == 200
    for path in (f"/api/jobs/+{job}", f"/api/jobs/{wide}", f"/api/jobs/{job[0]}_{job[1:]}",
                 f"/api/jobs/%20{job}", f"/api/users/+{user}/stats",
                 f"/api/jobs/+{job}/applications"):
        method = "POST" if path.endswith("applications") else "GET"
        response = world.call(method, path, json={"freelancer_id": world.bob})
        assert response.status_code == 404, (path, response.text)
        assert error_of(response)["code"] == "not_found"


def test_apply_to_a_missing_job_is_404(world: World) -> None:
    with unchanged(world.store):
        response = world.call("POST", "/api/jobs/10000/applications",
                              json={"freelancer_id": world.bob})
    assert response.status_code == 404 and error_of(response)["field"] == "job_id"


# -- bad input: 4xx, and nothing changes -------------------------------------------------------

BAD_SEARCHES = [
    ("limit=0", "limit"), ("limit=101", "limit"), ("limit=ten", "limit"),
    ("limit=1&limit=2", "limit"),
    ("status=OPENED", "status"), ("currency=usd", "currency"), ("min_budget=abc", "min_budget"),
    ("min_budget=1.001", "min_budget"), ("min_budget=-5", "min_budget"),
    ("min_budget=10&max_budget=5", "min_budget"), ("cursor=not-a-cursor", "cursor"),
    ("text=a%00b", "text"), ("sort=new", "sort"),
    ("skill=a&skill=b&skill=c&skill=d&skill=e&skill=f", "skill"),
    ("skills=a,b,c,d,e,f", "skills"), ("text=x&status=CANCELLED", "text"),
]


def test_bad_search_parameters_are_422(world: World) -> None:
    for query, field in BAD_SEARCHES:
        response = world.call("GET", "/api/jobs", token="read", query_string=query)
        assert response.status_code == 422, (query, response.text)
        error = error_of(response)
        assert error["code"] == "validation" and error["field"] == field, (query, error)


def test_a_cursor_from_another_search_is_refused(world: World) -> None:
    world.store.market.post_job(world.ann, "Second", "", "5.00", "USD", ["python"])
    cursor = world.call("GET", "/api/jobs", params={"limit": "1"}).json["next_cursor"]
    assert cursor
    response = world.call("GET", "/api/jobs", params={"limit": "1", "cursor": cursor,
                                                      "currency": "EUR"})
    assert response.status_code == 422 and error_of(response)["field"] == "cursor"


def _job(**changes: Any) -> dict[str, Any]:
    body = {"client_id": ANN, "title": "A job", "budget": "10.00", "currency": "USD"}
    body.update(changes)
    return {key: value for key, value in body.items() if value is not DROP}


DROP = object()
ANN = object()  # replaced by Ann's id in the test
BAD_JOBS = [
    ("title", _job(title=12)), ("title", _job(title="")), ("title", _job(title="x" * 201)),
    ("title", _job(title="a\x00b")), ("title", _job(title="   ")),
    ("client_id", _job(client_id="1")), ("client_id", _job(client_id=True)),
    ("client_id", _job(client_id=1.5)), ("client_id", _job(client_id=0)),
    ("client_id", _job(client_id=2**40)), ("client_id", _job(client_id=DROP)),
    ("client_id", _job(client_id=10_000)),
    ("budget", _job(budget="ten")), ("budget", _job(budget="1.001")), ("budget", _job(budget=0)),
    ("budget", _job(budget="-5")), ("budget", _job(budget=True)), ("budget", _job(budget=[1])),
    ("budget", _job(budget="1e999999999")), ("budget", _job(budget=10**14)),
    ("budget", _job(budget=DROP)), ("currency", _job(currency="usd")),
    ("currency", _job(currency="XXX")), ("skills", _job(skills="python")),
    ("skills", _job(skills=["python", 3])), ("skills", _job(skills=[""])),
    ("skills", _job(skills=[f"s{n}" for n in range(21)])), ("description", _job(description=None)),
    ("extra", _job(extra=1)),
]


def test_bad_job_bodies_are_422_and_change_nothing(world: World) -> None:
    with unchanged(world.store):
        for field, body in BAD_JOBS:
            if body.get("client_id") is ANN:
                body = {**body, "client_id": world.ann}
            response = world.call("POST", "/api/jobs", token="write", json=body)
            assert response.status_code == 422, (body, response.text)
            assert error_of(response)["field"] == field, (body, response.text)


BAD_APPLICATIONS = [
    ({"freelancer_id": "2"}, "freelancer_id"), ({}, "freelancer_id"),
    ({"freelancer_id": 10_000}, "freelancer_id"), ({"freelancer_id": ANN, "bid": 1.234}, "bid"),
    ({"freelancer_id": ANN, "cover_letter": 5}, "cover_letter"),
    ({"freelancer_id": ANN, "status": "ACCEPTED"}, "status"),
    ({"freelancer_id": ANN, "bid": "0"}, "bid"),
]


@pytest.mark.parametrize("path, field, value", [
    ("/api/jobs", "budget", "-5.00"), ("/api/jobs", "budget", "0.00"),
    ("/api/jobs", "budget", "0"), ("/api/jobs", "budget", -5), ("/api/jobs", "budget", 0),
    ("/api/jobs/{job}/applications", "bid", "-1"), ("/api/jobs/{job}/applications", "bid", 0),
])
def test_an_amount_that_is_not_positive_is_named_so(world: World, path: str, field: str,
                                                    value: Any) -> None:
    body = ({**_job(), "client_id": world.ann} if field == "budget" else
            {"freelancer_id": world.bob})
    with unchanged(world.store):
        response = world.call("POST", path.format(job=world.job), json={**body, field: value})
    assert response.status_code == 422, response.text
    error = error_of(response)
    assert error["field"] == field and "must be greater than 0" in error["message"], error


def test_a_negative_search_bound_is_named_so(world: World) -> None:
    response = world.call("GET", "/api/jobs", query_string="min_budget=-5.00")
    assert response.status_code == 422
    assert "must not be negative" in error_of(response)["message"]
    assert world.call("GET", "/api/jobs", query_string="min_budget=0").status_code == 200


def test_the_document_says_budgets_and_bids_are_above_zero(world: World) -> None:
    doc = world.client.simulate_get("/openapi.json").json
    bodies = doc["components"]["schemas"]
    for schema, field in (("NewJob", "budget"), ("NewApplication", "bid")):
        string, number = bodies[schema]["properties"][field]["anyOf"]
        assert number["minimum"] == 0 and number["exclusiveMinimum"] is True
        pattern = re.compile(string["pattern"])
        assert [v for v in ("0", "0.00", "000.0", "0.01", "10", "12.50", "-1") if
                pattern.search(v)] == ["0.01", "10", "12.50"]
    search = next(p for p in doc["paths"]["/api/jobs"]["get"]["parameters"]
                  if p["name"] == "min_budget")
    assert re.search(search["schema"]["pattern"], "0")  # a search bound may be zero


def test_bad_application_bodies_are_422(world: World) -> None:
    with unchanged(world.store):
        for body, field in BAD_APPLICATIONS:
            if body.get("freelancer_id") is ANN:
                body = {**body, "freelancer_id": world.bob}
            response = world.call("POST", f"/api/jobs/{world.job}/applications", json=body)
            assert response.status_code == 422, (body, response.text)
            assert error_of(response)["field"] == field, (body, response.text)


MALFORMED = [
    (b"{not json", "application/json", 400),
    (b"", "application/json", 400),
    (b'{"title": "x"', "application/json", 400),
    (b"\xff\xfe\xfa", "application/json", 400),
    (b"[" * 150_000 + b"]" * 150_000, "application/json", 413),
    (b"[" * 50_000 + b"]" * 50_000, "application/json", 400),
    (b'{"client_id": 1' + b"0" * 5000 + b"}", "application/json", 400),
    (b'["a list"]', "application/json", 422),
    (b'"text"', "application/json", 422),
    (b'{"client_id": NaN}', "application/json", 422),
    (b'{"title": "x"}', "text/plain", 415),
    (b'{"title": "x"}', "", 415),
    (b'{"title": "' + b"x" * BODY_LIMIT + b'"}', "application/json", 413),
]


def test_malformed_bodies_are_4xx_and_change_nothing(world: World) -> None:
    with unchanged(world.store):
        for body, content_type, status in MALFORMED:
            headers = {"Content-Type": content_type} if content_type else {}
            for path in ("/api/jobs", f"/api/jobs/{world.job}/applications"):
                response = world.call("POST", path, body=body, headers=headers)
                assert response.status_code == status, (body[:40], path, response.text[:300])
                error_of(response)


@pytest.mark.parametrize("size, status", [(BODY_LIMIT, 413), (100, 422)])
def test_chunked_bodies_are_read_to_the_limit(world: World, size: int, status: int) -> None:
    """No Content-Length (chunked): the server marks the input terminated."""
    body = b'{"title": "' + b"x" * size + b'"}'
    with unchanged(world.store):
        response = world.client.simulate_post(
            "/api/jobs", headers={"Authorization": f"Bearer {world.tokens['write']}",
                                  "Content-Type": "application/json"},
            extras={"wsgi.input": io.BytesIO(body), "wsgi.input_terminated": True})
    assert response.status_code == status, response.text


# -- conflicts and the error mapping ---------------------------------------------------------


def test_conflicts_are_409(world: World) -> None:
    path = f"/api/jobs/{world.job}/applications"
    assert world.call("POST", path, json={"freelancer_id": world.bob}).status_code == 201
    with unchanged(world.store):
        duplicate = world.call("POST", path, json={"freelancer_id": world.bob})
        own = world.call("POST", path, json={"freelancer_id": world.ann})
    assert duplicate.status_code == 409 and error_of(duplicate)["code"] == "conflict"
    assert own.status_code == 409 and error_of(own)["field"] == "freelancer_id"
    world.store.market.cancel_job(world.job)
    with unchanged(world.store):
        closed = world.call("POST", path, json={"freelancer_id": world.cat})
    assert closed.status_code == 409 and error_of(closed)["field"] == "job_id"


def test_busy_database_is_503_with_retry_after(world: World, monkeypatch) -> None:
    def busy(*args: Any, **kwargs: Any) -> Any:
        raise DatabaseBusy("all 20 pooled connections stayed busy")

    monkeypatch.setattr(world.store.queries, "user_stats", busy)
    response = world.call("GET", f"/api/users/{world.bob}/stats")
    assert response.status_code == 503 and response.headers["retry-after"] == "1"
    assert error_of(response)["code"] == "busy"


def test_unexpected_errors_are_500_and_leak_nothing(world: World, monkeypatch, caplog) -> None:
    def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("secret internals at /srv/app.py line 3")

    monkeypatch.setattr(world.store.sync, "status", broken)
    response = world.call("GET", "/api/sync/status")
    assert response.status_code == 500
    assert error_of(response) == {"code": "internal", "message": "internal error"}
    assert "secret" not in response.text
    assert "secret internals" in caplog.text


def test_unknown_method_is_405_in_the_error_shape(world: World) -> None:
    response = world.call("DELETE", f"/api/jobs/{world.job}")
    assert response.status_code == 405 and error_of(response)["code"] == "method_not_allowed"


# -- the document matches the app ------------------------------------------------------------


def test_openapi_paths_are_the_app_routes(world: World) -> None:
    app = world.client.app
    mounted = set()
    for info in falcon.inspect.inspect_routes(app):
        path = info.path
        path = re.sub(r"\{(\w+):[^}]*\}", r"{\1}", path)  # {id:id(min=1, ...)} -> {id}
        mounted |= {(path, m.method) for m in info.methods if not m.internal}
    # The dashboard's HTML pages (cookie sign-in) are not part of the JSON API.
    mounted = {(path, method) for path, method in mounted
               if not path.startswith("/dashboard")}
    doc = world.client.simulate_get("/openapi.json").json
    documented = {(path, method.upper()) for path, ops in doc["paths"].items() for method in ops}
    assert documented == mounted
    assert json.loads(json.dumps(document())) == doc
    for path, ops in doc["paths"].items():
        for method, op in ops.items():
            route = next(r for r in ROUTES if r.path == path and r.method == method.upper())
            assert op["x-scope"] == route.scope
            assert set(op["responses"]) == {str(route.status)} | {
                str(s) for s in route.error_statuses()}


def test_connections_are_kept_per_thread_and_dropped_after_a_failure(
        store: Store, monkeypatch) -> None:
    """As under ``serve`` when the pool holds every thread: a thread keeps its
    connection between requests, and gives it back after a 5xx."""
    pooled = store.backend.name == "postgresql"
    client = TestClient(create_app(lambda: store, release_connections=False))
    assert client.simulate_get("/healthz").status_code == 200
    assert not store.db.is_closed()

    def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("boom")

    with monkeypatch.context() as patch:
        patch.setattr(store.backend, "fetch", broken)
        assert client.simulate_get("/healthz").status_code == 500
    assert store.db.is_closed() == pooled
    assert client.simulate_get("/healthz").status_code == 200
    shared = TestClient(create_app(lambda: store))
    assert shared.simulate_get("/healthz").status_code == 200
    assert store.db.is_closed() == pooled
