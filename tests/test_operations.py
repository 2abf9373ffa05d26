"""The operator's actions and views of the outbox, on both backends: the JSON
routes (operator scope), their security events, refusals that change nothing,
the per-minute throughput series workers keep, and migration 0021 going down
with tokens that hold the operator scope."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from falcon.testing import TestClient

from azora_store.api.app import create_app
from azora_store.api.dashboard import COOKIE, csrf_for
from azora_store.support.clock import utcnow
from azora_store.sync import Router, Worker, WorkerConfig
from azora_store.sync.throughput import minute_of
from tests.dashboard_world import build
from tests.helpers import sql


@pytest.fixture
def world(store):
    return build(store)


def call(store, token: str, path: str, body: dict | None = None):
    client = TestClient(create_app(lambda: store))
    headers = {"Authorization": f"Bearer {token}"}
    if body is None:
        return client.simulate_get(path, headers=headers)
    return client.simulate_post(path, json=body, headers=headers)


def audit(store) -> list[tuple[str, str, dict]]:
    return [(kind, severity, json.loads(details)) for kind, severity, details in
            sql(store, "SELECT event_type, severity, details FROM security_events ORDER BY id")]


def test_retry_discard_and_run_now_are_recorded(world) -> None:
    store, op = world.store, world.operator
    response = call(store, op, "/api/sync/retry", {"ids": [world.failed[0]]})
    assert response.status_code == 200 and response.json == {"count": 1}
    response = call(store, op, "/api/sync/discard", {"ids": [world.failed[4]],
                                                     "reason": "  mailbox closed  "})
    assert response.json == {"count": 1}
    assert not sql(store, "SELECT 1 FROM service_sync WHERE id = ?", world.failed[4])
    response = call(store, op, "/api/sync/run-now", {"ids": [world.delayed]})
    assert response.json == {"count": 1}
    assert world.delayed not in [e["id"] for e in
                                 call(store, op, "/api/sync/delayed").json["items"]]
    response = call(store, op, "/api/sync/retry-matching", {"service": "billing",
                                                            "error": "timeout"})
    assert response.json == {"count": 2}
    kinds = audit(store)[-4:]
    assert [(k, s) for k, s, _ in kinds] == [("sync.retry", "INFO"), ("sync.discard", "MEDIUM"),
                                              ("sync.run_now", "INFO"),
                                              ("sync.retry_matching", "LOW")]
    discard = kinds[1][2]
    assert discard["reason"] == "mailbox closed" and discard["token_name"] == "ops-on-call"
    assert discard["events"][0]["id"] == world.failed[4]
    assert discard["events"][0]["last_error"] == "RuntimeError: mailbox full"
    assert store.compliance.verify_chain().ok
    # Counters follow every action.
    counted = store.sync.counted()
    status = store.sync.status()
    for (service, state), count in counted.items():
        assert status.services[service][state] == count


def test_refused_actions_change_nothing(world) -> None:
    store, op = world.store, world.operator
    before = sql(store, "SELECT id, status, attempts, available_at FROM service_sync "
                        "ORDER BY id")
    events = len(audit(store))
    cases = [("/api/sync/retry", {"ids": [world.failed[0], 99_999_999]}, "ids"),
             ("/api/sync/retry", {"ids": [world.delayed]}, "ids"),
             ("/api/sync/retry", {"ids": []}, "ids"),
             ("/api/sync/discard", {"ids": [world.failed[0]], "reason": "   "}, "reason"),
             ("/api/sync/discard", {"ids": [world.failed[0]]}, "reason"),
             ("/api/sync/run-now", {"ids": [world.failed[0]]}, "ids"),
             ("/api/sync/retry-matching", {"error": ""}, "error")]
    for path, body, field in cases:
        response = call(store, op, path, body)
        assert response.status_code == 422, (path, body, response.text)
        assert response.json["error"]["field"] == field, (path, body)
    assert call(store, world.reader, "/api/sync/retry",
                {"ids": [world.failed[0]]}).status_code == 403
    assert sql(store, "SELECT id, status, attempts, available_at FROM service_sync "
                      "ORDER BY id") == before
    assert len(audit(store)) == events


def test_blocked_keys_name_the_dead_head(world) -> None:
    items = call(world.store, world.reader, "/api/sync/blocked").json["items"]
    assert items == [{"ordering_key": "Job:0", "waiting": 1, "head": {
        "id": world.failed[0], "status": "FAILED", "service": "search", "attempts": 1,
        "last_error": "RuntimeError: HTTP 500 from search: upstream returned <html>"}}]


def test_workers_keep_the_per_minute_series(store) -> None:
    for n in range(25):
        store.sync.enqueue("analytics", "Job", n, "UPDATE", {})
    Worker(store, Router({"*": "noop"}), WorkerConfig(idle_min=0.001, idle_max=0.01,
                                                      exit_when_idle=True)).run()
    minutes = store.sync.throughput.last_hour()
    assert len(minutes) == 60 and minutes[-1][0] == minute_of(utcnow())
    assert sum(count for _, count in minutes) == 25
    # Rows older than two hours are dropped as new ones come in.
    store.sync.throughput.add(5, at=utcnow() - timedelta(hours=3))
    store.sync.throughput.add(1)
    assert sql(store, "SELECT COUNT(*) FROM sync_throughput") == [(1,)]


def test_dashboard_cookie_and_csrf(world) -> None:
    client = TestClient(create_app(lambda: world.store))
    form = {"Content-Type": "application/x-www-form-urlencoded"}
    login = client.simulate_post("/dashboard/login", body=f"token={world.operator}",
                                 headers=form)
    assert login.status_code == 303 and login.headers["location"] == "/dashboard"
    cookie = login.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie
    assert world.operator not in login.headers["location"]
    wrong = client.simulate_post("/dashboard/login", body="token=azs_nope", headers=form)
    assert wrong.status_code == 401 and "Set-Cookie" not in wrong.headers
    page = client.simulate_get("/dashboard", cookies={COOKIE: world.operator})
    assert "default-src 'none'" in page.headers["content-security-policy"]
    assert csrf_for(world.operator) in page.text
    assert csrf_for(world.reader) != csrf_for(world.operator)
    # Error text is shown escaped.
    assert "upstream returned &lt;html&gt;" in page.text and "returned <html>" not in page.text


def test_migration_0021_down_takes_the_operator_scope_out(store) -> None:
    from azora_store.api.auth import Tokens

    tokens = Tokens(store)
    both = tokens.create("both", ["read", "operator"])[0].id
    only = tokens.create("only", ["operator"])[0].id
    plain = tokens.create("plain", ["write"])[0].id
    plan = [r.name for r in store.migrations.down_plan(to="0020_failed_events")]
    assert plan == ["0021_operator_dashboard"]
    store.migrations.down(to="0020_failed_events", expect=plan)
    rows = {row[0]: row[1:] for row in
            sql(store, "SELECT id, scopes, revoked_at IS NULL FROM api_tokens")}
    assert rows[both] == ("read", True)
    assert rows[only][0] == "read" and not rows[only][1]  # revoked
    assert rows[plain] == ("write", True)
    store.migrate()
    assert tokens.create("again", ["operator"])[1]
