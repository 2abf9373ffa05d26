"""Dead letters you can see (issue 13 item 5), on both backends: ``sync failed``
(CLI and ``GET /api/sync/failed``) lists FAILED events newest first in keyset
pages, filtered by service and error text; ``retry-failed --id`` refuses ids
that are unknown or not FAILED and changes nothing."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner
from falcon.testing import TestClient

from azora_store.api.app import create_app
from azora_store.api.auth import Tokens
from azora_store.cli import cli
from azora_store.errors import NotFound, ValidationError
from azora_store.sync import Router, Worker, WorkerConfig, register_handler
from tests.helpers import sql

FAST = dict(backoff_base=0.01, idle_min=0.001, idle_max=0.01, lease=5.0, exit_when_idle=True)


class Refuser:
    """Fails every event with the error text its payload names."""

    name = "refuser"
    transactional = False

    def __call__(self, event, store) -> None:
        raise RuntimeError(event.payload["error"])


def make_failed(store, specs: list[tuple[str, str]]) -> list[int]:
    """Dead-letter one event per (service, error) through a real worker; ids in order."""
    ids = [store.sync.enqueue(service, "Job", n, "UPDATE", {"error": error},
                              max_attempts=1).id
           for n, (service, error) in enumerate(specs)]
    register_handler("refuser", lambda argument: Refuser())
    Worker(store, Router({"*": "refuser"}), WorkerConfig(**FAST)).run()
    assert store.sync.status().counts["FAILED"] == len(specs)
    return ids


SPECS = [("search", "HTTP 500 from search"), ("billing", "timeout after 5s"),
         ("search", "HTTP 503: 100% busy"), ("billing", "Timeout: upstream_gone"),
         ("search", "HTTP 500 from search"), ("mail", "mailbox full")]


def test_pages_list_every_failed_event_once_newest_first(store) -> None:
    ids = make_failed(store, SPECS * 3)
    store.sync.enqueue("search", "Job", 999, "UPDATE", {})  # PENDING: never listed
    seen, before = [], None
    while True:
        page = store.sync.failed(limit=4, before=before)
        assert len(page.items) <= 4
        seen += [e.id for e in page.items]
        before = page.next_before
        if before is None:
            break
    assert seen == sorted(ids, reverse=True)
    first = store.sync.failed(limit=1).items[0]
    assert (first.service, first.entity_type, first.entity_id, first.attempts,
            first.max_attempts, first.last_error) == ("mail", "Job", "17", 1, 1,
                                                       "RuntimeError: mailbox full")
    assert first.failed_at >= first.created_at


def test_filters_by_service_and_error_text(store) -> None:
    ids = make_failed(store, SPECS)
    by_id = dict(zip(ids, SPECS, strict=True))

    def listed(**filters) -> list[int]:
        return [e.id for e in store.sync.failed(limit=500, **filters).items]

    assert listed(service="billing") == [i for i in reversed(ids) if by_id[i][0] == "billing"]
    # Case-insensitive substring, on both backends.
    assert listed(error="TIMEOUT") == [ids[3], ids[1]]
    assert listed(service="search", error="http 500") == [ids[4], ids[0]]
    # LIKE's wildcards are literal text.
    assert listed(error="100%") == [ids[2]]
    assert listed(error="m_ilbox") == []
    assert listed(error="_gone") == [ids[3]]
    assert listed(service="nowhere") == []


def test_bad_page_arguments_name_the_field(store) -> None:
    for kwargs, field in [({"limit": 0}, "limit"), ({"limit": 501}, "limit"),
                          ({"before": 0}, "before"), ({"before": "7"}, "before"),
                          ({"service": ""}, "service"), ({"error": "x" * 201}, "error")]:
        with pytest.raises(ValidationError) as caught:
            store.sync.failed(**kwargs)
        assert caught.value.field == field, kwargs


def test_retry_by_id_refuses_unknown_and_unfailed_ids(store) -> None:
    failed = make_failed(store, SPECS[:2])
    pending = store.sync.enqueue("search", "Job", 50, "UPDATE", {}).id
    before = sql(store, "SELECT id, status, attempts FROM service_sync ORDER BY id")
    with pytest.raises(NotFound, match="unknown event id\\(s\\): 99999999"):
        store.sync.retry_failed(ids=[failed[0], 99999999])
    with pytest.raises(NotFound, match=f"not FAILED: {pending} \\(PENDING\\)"):
        store.sync.retry_failed(ids=[failed[0], pending])
    assert sql(store, "SELECT id, status, attempts FROM service_sync ORDER BY id") == before
    assert store.sync.retry_failed(ids=[failed[0]]) == 1
    assert [e.id for e in store.sync.failed().items] == [failed[1]]


def test_cli_lists_and_refuses_unknown_ids(db_url, store) -> None:
    ids = make_failed(store, SPECS)
    runner = CliRunner()
    result = runner.invoke(cli, ["sync", "failed", "--db", db_url, "--limit", "2"])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].split()[:4] == ["id", "service", "entity", "tries"]
    assert lines[1].split()[:4] == [str(ids[5]), "mail", "Job:5", "1/1"]
    assert lines[1].endswith("mailbox full")
    assert lines[-1] == f"more: azora-store sync failed --before {ids[4]}"

    result = runner.invoke(cli, ["sync", "failed", "--db", db_url, "--json", "--service",
                                 "billing", "--error", "timeout"])
    assert result.exit_code == 0, result.output
    page = json.loads(result.output)
    assert [e["id"] for e in page["items"]] == [ids[3], ids[1]]
    assert page["next_before"] is None
    assert page["items"][0]["last_error"] == "RuntimeError: Timeout: upstream_gone"

    result = runner.invoke(cli, ["sync", "retry-failed", "--id", "99999999", "--db", db_url])
    assert result.exit_code == 1
    assert "unknown event id(s): 99999999" in result.output
    assert store.sync.status().counts["FAILED"] == len(SPECS)


def test_api_route_lists_failed_events_with_the_read_scope(store) -> None:
    ids = make_failed(store, SPECS)
    tokens = Tokens(store)
    read, write = (tokens.create(name, [name])[1] for name in ("read", "write"))
    client = TestClient(create_app(lambda: store))

    def get(token: str, **params):
        return client.simulate_get("/api/sync/failed", params=params,
                                   headers={"Authorization": f"Bearer {token}"})

    response = get(read, limit="2", service="search")
    assert response.status_code == 200, response.text
    assert [e["id"] for e in response.json["items"]] == [ids[4], ids[2]]
    after = get(read, limit="2", service="search", before=str(response.json["next_before"]))
    assert [e["id"] for e in after.json["items"]] == [ids[0]]
    assert after.json["next_before"] is None
    assert get(read, error="MAILBOX").json["items"][0]["id"] == ids[5]
    assert get(write).status_code == 403
    for params, field in [({"limit": "0"}, "limit"), ({"before": "-1"}, "before"),
                          ({"before": "1" * 13}, "before"), ({"bogus": "1"}, "bogus")]:
        response = get(read, **params)
        assert response.status_code == 422, params
        assert response.json["error"]["field"] == field
