"""Reads on streaming replicas, against a real primary + replica pair.

The pair (``tests/replica_pair.py``) is built once per session from the
PostgreSQL binaries on this machine, on free ports; the shared server is not
touched. Without the binaries the pair tests skip, except with CI=true: then
they fail. The URL-option tests need no server.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest
from click.testing import CliRunner
from falcon.testing import TestClient

from azora_store import open_store
from azora_store.api.app import create_app
from azora_store.api.auth import Tokens
from azora_store.api.resources import JobReader
from azora_store.cli import cli
from azora_store.doctor import diagnose
from azora_store.errors import ConfigurationError, ValidationError
from azora_store.queries import search_jobs
from azora_store.replicas import (
    TOKEN_HEADER,
    consistency_token,
    consistent,
    primary_reads,
    read_your_writes,
)
from azora_store.store import Store
from azora_store.sync.handlers import Router
from azora_store.sync.worker import Worker, WorkerConfig
from tests.conftest import IN_CI
from tests.replica_pair import PairError, ReplicaPair

DATABASE = "azora_replicas"
FAST = "replica_check=0.05&replica_wait=0.05"


# -- URL options (no server needed) -----------------------------------------------------


@pytest.mark.parametrize(("url", "message"), [
    ("postgresql://u@h/db?replica=sqlite:///x.db", "a replica must be a postgresql:// URL"),
    ("postgresql://u@h/db?replica=", "option replica in"),
    ("postgresql://u@h/db?replica_max_lag=3", "the URL names none"),
    ("postgresql://u@h/db?replica=postgresql://h2/db&replica=postgresql://h2/db",
     "the same replica twice"),
    ("postgresql://u@h/db?replica=postgresql://h/db", "the primary as its own replica"),
    ("postgresql://u@h/db?replica=postgresql://h2/db%3Freplica_wait%3D1",
     "cannot carry replica_wait"),
    ("postgresql://u@h/db?replica=postgresql://h2/db&replica_wait=soon",
     "replica_wait accepts a number of seconds"),
])
def test_bad_replica_options_are_refused_by_name(url: str, message: str) -> None:
    with pytest.raises(ConfigurationError, match=message):
        open_store(url)


def test_replica_urls_take_the_primarys_missing_parts() -> None:
    store = open_store("postgresql://app:secret@h1:5433/azora?replica=postgresql://h2"
                       "&replica=postgresql://ro@h3:6000/other%3Fconnect_timeout%3D3"
                       "&replica_max_lag=2.5&replica_wait=0.2")
    try:
        router = store.backend.reads
        first, second = (r.url for r in router.replicas)
        assert (first.username, first.password, first.host, first.port, first.database) == (
            "app", "secret", "h2", 5432, "azora")
        assert (second.username, second.password, second.port, second.database) == (
            "ro", None, 6000, "other")
        assert second.options == {"connect_timeout": "3"}
        assert (router.settings.max_lag, router.settings.wait) == (2.5, 0.2)
    finally:
        store.close()


def test_sqlite_refuses_a_replica_option(tmp_path: Any, monkeypatch: pytest.MonkeyPatch
                                         ) -> None:
    url = f"sqlite:///{tmp_path}/a.db?replica=postgresql://h2/db"
    with pytest.raises(ConfigurationError, match=r"option replica in .*no streaming replicas"):
        open_store(url)
    assert not (tmp_path / "a.db").exists()
    result = CliRunner().invoke(cli, ["doctor", "--db", url])
    assert result.exit_code != 0 and "no streaming replicas" in result.output
    monkeypatch.setenv("AZORA_DATABASE_URL", url)
    with pytest.raises(ConfigurationError, match="option replica in"):
        open_store()


def test_tokens_on_a_database_without_replicas(store: Store) -> None:
    """Both backends: no replicas, so no token and nothing to wait for; a token
    that is not a WAL position is refused all the same."""
    ann = store.market.create_user("ann@example.org", "Ann")
    with read_your_writes() as session:
        job = store.market.post_job(ann.id, "Build an API", "REST", "10.00", "USD", ["sql"])
        assert [hit.id for hit in search_jobs(store, text="api").items] == [job.id]
    assert session.token is None and consistency_token(store) is None
    with consistent(None), consistent("0/16B3D48"):
        assert search_jobs(store, text="api").items
    with (pytest.raises(ValidationError, match="token must be a consistency token") as caught,
          consistent("yesterday")):
        pass
    assert caught.value.field == "token"


# -- the pair ------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def pair() -> Iterator[ReplicaPair]:
    try:
        built = ReplicaPair(prefix="azora-test-pair-").start()
        built.create_database(DATABASE)
        with open_store(built.primary_url(DATABASE)) as store:
            store.migrate()
        built.wait_replayed()
    except (PairError, OSError) as exc:
        if IN_CI:
            pytest.fail(f"could not build the primary + replica pair: {exc} (CI=true: "
                        "the replica tests must run)")
        pytest.skip(f"no primary + replica pair: {exc}")
    yield built
    built.stop()


@pytest.fixture
def delay(pair: ReplicaPair) -> Iterator[Any]:
    """``delay(seconds)`` sets the replica's apply delay for this test."""
    yield pair.set_apply_delay
    pair.set_apply_delay(0)
    pair.wait_replayed()


def replicated(pair: ReplicaPair, options: str = "") -> Store:
    return open_store(f"{pair.primary_url(DATABASE)}?replica={pair.replica_url(DATABASE)}"
                      f"&{FAST}{'&' + options if options else ''}")


@pytest.fixture
def rstore(pair: ReplicaPair) -> Iterator[Store]:
    """A store on the pair whose replica serves reads up to 60 s old."""
    with replicated(pair, "replica_max_lag=60") as store:
        store.backend.reads.check()
        yield store


def user(store: Store) -> int:
    import uuid

    return store.market.create_user(f"u{uuid.uuid4().hex[:10]}@example.org", "U").id


def post(store: Store, client: int, title: str = "Replica probe job") -> int:
    return store.market.post_job(client, title, "x", "10.00", "USD", ["sql"]).id


def test_stale_read_probe(rstore: Store, delay: Any) -> None:
    """With a 2 s apply delay: every read carrying its write's token sees the
    write; reads without one see stale data (the probe can fail)."""
    delay(2.0)
    reader, client = JobReader(rstore), user(rstore)
    stale_with, stale_without, writes = 0, 0, 5
    for _ in range(writes):
        with read_your_writes() as session:
            job = post(rstore, client)
        stale_without += reader.get(job) is None
        with consistent(session.token):
            stale_with += reader.get(job) is None
    assert stale_with == 0
    assert stale_without == writes  # the replica was 2 s behind each time
    counts = rstore.backend.reads.counts()
    assert counts[("primary", "token_wait")] == writes
    name = rstore.backend.reads.replicas[0].name
    assert counts[(name, "fresh")] == writes


def test_token_read_on_the_replica_once_it_caught_up(rstore: Store, pair: ReplicaPair) -> None:
    client = user(rstore)
    with read_your_writes() as session:
        job = post(rstore, client, "Caught up job")
    pair.wait_replayed()
    with consistent(session.token):
        page = search_jobs(rstore, text="caught")
    assert [hit.id for hit in page.items] == [job]
    assert rstore.backend.reads.counts() == {(rstore.backend.reads.replicas[0].name, "token"): 1}


def test_lag_above_the_limit_goes_to_the_primary(pair: ReplicaPair, delay: Any) -> None:
    delay(2.0)
    with replicated(pair, "replica_max_lag=0.5") as store:
        client = user(store)
        post(store, client)
        deadline = time.monotonic() + 5
        router = store.backend.reads
        while router.check()[0].state != "lagging":
            assert time.monotonic() < deadline, router.replicas[0].to_json()
            post(store, client)
            time.sleep(0.2)
        assert router.replicas[0].byte_lag > 0
        job = post(store, client, "Fresh on the primary")
        assert JobReader(store).get(job) is not None  # not stale: the primary answered
        assert router.counts() == {("primary", "unhealthy"): 1}
        delay(0)
        pair.wait_replayed()
        time.sleep(0.6)  # one check interval later, with nothing new written
        assert router.check()[0].state == "streaming"  # back once it caught up


def test_replica_down_then_back(rstore: Store, pair: ReplicaPair) -> None:
    client = user(rstore)
    job = post(rstore, client)
    pair.wait_replayed()
    router = rstore.backend.reads
    name = router.replicas[0].name
    assert JobReader(rstore).get(job) is not None  # this thread now holds a replica connection
    assert router.counts() == {(name, "fresh"): 1}
    pair.stop_replica()
    try:
        # Whether a check or the read itself finds it gone first, the reads succeed.
        assert JobReader(rstore).get(job) is not None
        assert search_jobs(rstore, skills=["sql"]).items
        assert rstore.sync.status().counts
        assert router.check()[0].state == "down"
        assert router.counts()[(name, "fresh")] == 1  # none of them on the replica
    finally:
        pair.start_replica()
    assert router.check()[0].state == "streaming"
    for _ in range(3):  # a pooled connection from before the restart fails over once
        assert JobReader(rstore).get(job) is not None
    assert router.counts()[(name, "fresh")] >= 3, (router.counts(), router.replicas[0].to_json())
    assert sum(router.counts().values()) == 7


def test_writes_locks_and_claims_stay_on_the_primary(rstore: Store, pair: ReplicaPair) -> None:
    # The replica refuses writes outright ...
    replica_backend = rstore.backend.reads.replicas[0].backend
    with pytest.raises(Exception, match="read-only transaction") as refused:
        replica_backend.db.execute_sql("UPDATE users SET email = email")
    assert "25006" in str(refused.value)  # SQLSTATE read_only_sql_transaction
    replica_backend.db.close()
    # ... so every workflow below would fail if one statement reached it.
    client, freelancer = user(rstore), user(rstore)
    job = post(rstore, client)
    rstore.market.apply(job, freelancer, "me")
    rstore.market.deposit(client, "50.00", "USD", idempotency_key="dep-replica")
    stats = Worker(rstore, Router({"*": "eventlog"}),  # outbox claims, leases, deliveries
                   WorkerConfig(exit_when_idle=True, idle_min=0.001, idle_max=0.01)).run()
    assert stats.claimed >= 3
    # A read path inside a transaction runs on the primary too.
    with rstore.atomic():
        assert rstore.sync.status().counts
    with primary_reads():
        assert JobReader(rstore).get(job) is not None
    counts = rstore.backend.reads.counts()
    assert counts[("primary", "transaction")] == 1 and counts[("primary", "pinned")] == 1


def test_http_token_header(rstore: Store, delay: Any) -> None:
    delay(2.0)
    client = user(rstore)
    secret = Tokens(rstore).create("replica-test", ["read", "write"])[1]
    auth = {"Authorization": f"Bearer {secret}"}
    http = TestClient(create_app(lambda: rstore))
    posted = http.simulate_post("/api/jobs", headers=auth, json={
        "client_id": client, "title": "Header job", "description": "x", "budget": "5.00",
        "currency": "USD", "skills": ["sql"]})
    assert posted.status_code == 201, posted.text
    token = posted.headers[TOKEN_HEADER]
    job = posted.json["id"]
    assert posted.json["title"] == "Header job"  # the write's own answer: from the primary
    with_token = http.simulate_get(f"/api/jobs/{job}", headers={**auth, TOKEN_HEADER: token})
    without = http.simulate_get(f"/api/jobs/{job}", headers=auth)
    assert (with_token.status_code, without.status_code) == (200, 404)
    bad = http.simulate_get(f"/api/jobs/{job}", headers={**auth, TOKEN_HEADER: "soon"})
    assert bad.status_code == 422 and bad.json["error"]["field"] == TOKEN_HEADER
    metrics = http.simulate_get("/metrics", headers=auth).text
    name = rstore.backend.reads.replicas[0].name
    assert 'azora_db_reads_total{reason="token_wait",target="primary"} 1.0' in metrics
    assert f'azora_db_reads_total{{reason="fresh",target="{name}"}}' in metrics
    assert f'azora_replica_up{{replica="{name}"}} 1.0' in metrics
    assert f'azora_replica_lag_bytes{{replica="{name}"}}' in metrics


def test_doctor_shows_each_replica(rstore: Store) -> None:
    text = diagnose(rstore).render()
    name = rstore.backend.reads.replicas[0].name
    assert f"replica {name}" in text and "streaming" in text
    assert "byte lag" in text and "time lag" in text and "transactions" in text


def test_promoted_replica_is_left_out(pair: ReplicaPair) -> None:
    """Last: promotion turns the replica into a primary of its own (rebuilt after)."""
    with replicated(pair) as store:
        router = store.backend.reads
        router.check()
        client = user(store)
        job = post(store, client)
        pair.wait_replayed()
        try:
            pair.promote_replica()
            assert JobReader(store).get(job) is not None  # whatever the last check said
            assert router.check()[0].state == "promoted"
            before = router.counts()
            with read_your_writes() as session:
                later = post(store, client, "After the promotion")
            assert session.token is not None
            assert JobReader(store).get(later) is not None  # tokenless: the primary
            with consistent(session.token):
                assert JobReader(store).get(later) is not None
            after = router.counts()
            assert after[("primary", "unhealthy")] == before.get(("primary", "unhealthy"), 0) + 2
            assert sum(after.values()) == sum(before.values()) + 2
        finally:
            store.close()
            pair.rebuild_replica()
