"""schemathesis against ``/openapi.json`` on both backends: generated requests
(valid and invalid) never get a 5xx, and every response matches the document
(status documented, content type, body schema)."""

from __future__ import annotations

from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis.specs.openapi.checks import positive_data_acceptance

from azora_store.api.app import create_app
from azora_store.api.auth import Tokens
from azora_store.store import Store

EXAMPLES = 400  # per backend, all modes together: about half a minute


def _populate(store: Store) -> dict[str, Any]:
    """A few rows with small ids, so generated ids often hit real ones."""
    m = store.market
    users = [m.create_user(f"user{n}@example.org", f"User {n}").id for n in range(4)]
    jobs = [m.post_job(user, f"Job {n} python api", "Some words", "100.00", "USD",
                       ["python", "sql"]).id for n, user in enumerate(users[:2])]
    m.apply(jobs[0], users[3], "hello")
    store.compliance.submit_kyc(users[2], "PASSPORT", "X7654321")
    token = Tokens(store).create("schemathesis", ["read", "write", "compliance"])[1]
    return {"users": users, "jobs": jobs, "kyc": [users[2]], "token": token}


def _with(field: str, ids: list[int]) -> Any:
    """Point a generated body's ``field`` at an existing row (when it has one)."""

    def point(case: schemathesis.Case, value: int) -> schemathesis.Case:
        if isinstance(case.body, dict) and isinstance(case.body.get(field), int):
            case.body[field] = value
        return case

    return lambda strategy: st.builds(point, strategy, st.sampled_from(ids))


@pytest.mark.slow
def test_generated_requests_match_the_document(store: Store) -> None:
    rows = _populate(store)
    schema = schemathesis.openapi.from_wsgi("/openapi.json", create_app(lambda: store))
    positive, negative = schemathesis.GenerationMode.POSITIVE, schemathesis.GenerationMode.NEGATIVE
    job, user, kyc = (st.sampled_from(rows[k]) for k in ("jobs", "users", "kyc"))

    def op(path: str, method: str = "GET", **kwargs: Any) -> Any:
        return schema[path][method].as_strategy(generation_mode=positive, **kwargs)

    # Valid requests against rows that exist (most generated ids would be 404s).
    existing = st.one_of(
        job.flatmap(lambda j: op("/api/jobs/{id}", path_parameters={"id": j})),
        _with("client_id", rows["users"])(op("/api/jobs", "POST")),
        job.flatmap(lambda j: _with("freelancer_id", rows["users"])(
            op("/api/jobs/{id}/applications", "POST", path_parameters={"id": j}))),
        user.flatmap(lambda u: op("/api/users/{id}/stats", path_parameters={"id": u})),
        kyc.flatmap(lambda u: op("/api/kyc/{user_id}", path_parameters={"user_id": u})),
    )
    cases = st.one_of(schema.as_strategy(generation_mode=positive),
                      schema.as_strategy(generation_mode=negative), existing)
    headers = {"Authorization": f"Bearer {rows['token']}"}
    # Not checked: that every schema-valid request is accepted. Some rules cannot be
    # written in OpenAPI 3.0 (min_budget <= max_budget, text only with status OPEN,
    # an opaque cursor from the same search, rows that must exist): those are 422.
    excluded = [positive_data_acceptance]

    @settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
              suppress_health_check=list(HealthCheck))
    @given(case=cases)
    def check(case: schemathesis.Case) -> None:
        # A negative case may be negative only by its missing Authorization header
        # (plus a part the client drops, such as a query key whose value is None):
        # adding the token would make it a valid request, wrongly "accepted".
        unauthorised = (case.meta is not None and case.meta.generation.mode == negative
                        and "Authorization" not in (case.headers or {}))
        case.call_and_validate(headers=None if unauthorised else headers,
                               excluded_checks=excluded)

    check()
