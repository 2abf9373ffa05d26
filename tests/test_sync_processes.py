"""The outbox with real worker processes: kill -9, SIGTERM, the CLI."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from click.testing import CliRunner

from azora_store import open_store
from azora_store.cli import cli
from tests.helpers import sql

EVENTS = 20_000
KEYS = 4_000  # five events per key: per-key order is checked too


def start_worker(url: str, *extra: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "azora_store", "sync", "worker", "--db", url, "--batch", "50",
         "--lease", "2", "--housekeeping", "0.5", "--route", "*=eventlog", *extra],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def owners_holding_leases(store) -> list[int]:
    rows = sql(store, "SELECT DISTINCT lease_owner FROM service_sync WHERE status = 'PROCESSING'")
    return [int(owner.split(":")[1]) for (owner,) in rows if owner]


def wait_for(condition, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


@pytest.mark.slow
@pytest.mark.parametrize("mode", ["in-transaction", "leased"])
def test_kill_9_loses_nothing_and_in_db_effects_happen_once(db_url: str, mode: str) -> None:
    """In-transaction delivery: a kill rolls the batch back. Leased delivery: the
    victim is always a worker holding leases (mid-batch); its events are rescued
    when the lease expires and delivered again, and the tracking table keeps
    the effect single."""
    store = open_store(db_url)
    # max_attempts=10: a kill mid-lease counts as an attempt (a worker that dies
    # on an event may be dying because of it); this test is about crashes.
    store.sync.enqueue_many({"service": "eventlog", "entity_type": "Job",
                             "entity_id": n % KEYS, "operation": "UPDATE", "payload": {"n": n},
                             "max_attempts": 10} for n in range(EVENTS))
    extra = ("--leased",) if mode == "leased" else ()
    workers = [start_worker(db_url, *extra) for _ in range(4)]
    kills = 0
    try:
        while kills < 5:
            if mode == "leased":
                victims = [w for w in workers if w.pid in owners_holding_leases(store)]
            else:
                victims = workers[kills % 4:kills % 4 + 1]
                time.sleep(0.2)
            if store.sync.status().counts["PENDING"] == 0:
                break
            if not victims:
                time.sleep(0.01)
                continue
            victim = victims[0]
            victim.send_signal(signal.SIGKILL)
            victim.wait()
            kills += 1
            workers[workers.index(victim)] = start_worker(db_url, *extra)
            time.sleep(0.15)
        wait_for(lambda: store.sync.status().counts["COMPLETED"] == EVENTS, 120,
                 "every event to complete")
    finally:
        for worker in workers:
            worker.send_signal(signal.SIGTERM)
        for worker in workers:
            worker.wait(timeout=30)

    assert kills >= 3, f"only {kills} kill(s) landed before the work ran out"
    report = store.sync.status()
    assert report.counts == {"PENDING": 0, "PROCESSING": 0, "COMPLETED": EVENTS, "FAILED": 0}
    assert store.sync.counted() == {("eventlog", "COMPLETED"): EVENTS}
    # Effects exactly once, although killed batches were delivered again.
    assert sql(store, "SELECT COUNT(*), COUNT(DISTINCT event_id) FROM event_log") == [
        (EVENTS, EVENTS)]
    assert sql(store, "SELECT COUNT(*) FROM consumed_events") == [(EVENTS,)]
    if mode == "leased":
        redelivered = sql(store, "SELECT COUNT(*) FROM service_sync WHERE attempts > 1")[0][0]
        assert redelivered > 0, "no kill landed mid-batch: the test proved nothing"
    # Per-key order survived the crashes: log order follows event order per key.
    rows = sql(store, "SELECT entity_id, event_id FROM event_log ORDER BY id")
    per_key: dict[str, list[int]] = {}
    for entity_id, event_id in rows:
        per_key.setdefault(entity_id, []).append(event_id)
    assert all(ids == sorted(ids) for ids in per_key.values())
    store.close()


class SlowHook(BaseHTTPRequestHandler):
    seen: list[str] = []

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers["Content-Length"]))
        time.sleep(0.2)
        SlowHook.seen.append(self.headers["Idempotency-Key"])
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args) -> None:
        pass


@pytest.mark.slow
def test_sigterm_finishes_the_event_in_hand_and_releases_the_rest(db_url: str) -> None:
    server = ThreadingHTTPServer(("127.0.0.1", 0), SlowHook)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    SlowHook.seen = []
    store = open_store(db_url)
    for n in range(20):
        store.sync.enqueue("crm", "User", n, "UPDATE", {})
    url = f"http://127.0.0.1:{server.server_address[1]}/hook"
    worker = subprocess.Popen(
        [sys.executable, "-m", "azora_store", "sync", "worker", "--db", db_url, "--batch", "20",
         "--route", f"crm=webhook:{url}"], stderr=subprocess.PIPE, text=True)
    try:
        wait_for(lambda: len(SlowHook.seen) >= 3, 30, "three deliveries")
        worker.send_signal(signal.SIGTERM)
        _, err = worker.communicate(timeout=10)
    finally:
        server.shutdown()
    assert worker.returncode == 0, err
    summary = json.loads(err.strip().splitlines()[-1])
    delivered = len(SlowHook.seen)
    assert summary["completed"] == delivered and summary["released"] == 20 - delivered
    counts = store.sync.status().counts
    assert counts == {"PENDING": 20 - delivered, "PROCESSING": 0, "COMPLETED": delivered,
                      "FAILED": 0}
    assert sql(store, "SELECT MAX(attempts) FROM service_sync WHERE status = 'PENDING'") == [(0,)]
    store.close()


@pytest.mark.slow
def test_cli_worker_status_retry_prune(db_url: str) -> None:
    store = open_store(db_url)
    for n in range(30):
        store.sync.enqueue("eventlog", "Job", n, "CREATE", {})
    store.sync.enqueue("nowhere", "Job", 1, "CREATE", {}, max_attempts=1)
    store.close()
    runner = CliRunner()
    result = runner.invoke(cli, ["sync", "worker", "--db", db_url, "--concurrency", "2",
                                 "--exit-when-idle", "--backoff", "0.01"])
    assert result.exit_code == 0, result.output

    result = runner.invoke(cli, ["sync", "status", "--json", "--db", db_url])
    report = json.loads(result.output)
    # No handler for "nowhere": left PENDING, not dead-lettered, and listed as unrouted.
    assert report["counts"] == {"PENDING": 1, "PROCESSING": 0, "COMPLETED": 30, "FAILED": 0}
    assert report["unrouted"] == {"nowhere": 1} and report["routes"] == {}
    result = runner.invoke(cli, ["sync", "status", "--db", db_url])
    assert "unrouted (routes: none given): nowhere (1 pending)" in result.output, result.output
    result = runner.invoke(cli, ["sync", "status", "--json", "--db", db_url,
                                 "--route", "nowhere=noop"])
    assert json.loads(result.output)["unrouted"] == {}

    # Routed to a webhook nothing listens on: one attempt, then a dead letter.
    result = runner.invoke(cli, ["sync", "worker", "--db", db_url, "--exit-when-idle",
                                 "--route", "nowhere=webhook:http://127.0.0.1:9/",
                                 "--route", "eventlog=eventlog"])
    assert result.exit_code == 0, result.output
    result = runner.invoke(cli, ["sync", "status", "--json", "--db", db_url])
    report = json.loads(result.output)
    assert report["counts"] == {"PENDING": 0, "PROCESSING": 0, "COMPLETED": 30, "FAILED": 1}
    assert report["services"]["nowhere"]["FAILED"] == 1
    result = runner.invoke(cli, ["sync", "status", "--db", db_url])
    assert "nowhere" in result.output and "oldest pending: none" in result.output

    result = runner.invoke(cli, ["sync", "retry-failed", "--service", "nowhere", "--db", db_url])
    assert result.output.strip() == "1 event(s) queued again"
    result = runner.invoke(cli, ["sync", "prune", "--older-than", "0s", "--db", db_url])
    assert "deleted 30 completed event(s)" in result.output, result.output
    result = runner.invoke(cli, ["sync", "prune", "--older-than", "soon", "--db", db_url])
    assert result.exit_code == 2 and "not a duration" in result.output
    result = runner.invoke(cli, ["sync", "worker", "--route", "x", "--db", db_url])
    assert result.exit_code == 2 and "SERVICE=HANDLER" in result.output


def test_cli_worker_refuses_a_service_it_has_no_handler_for(db_url: str) -> None:
    result = CliRunner().invoke(cli, ["sync", "worker", "--service", "billing",
                                      "--exit-when-idle", "--db", db_url])
    assert result.exit_code == 2, result.output
    assert "no sync handler for --service billing" in result.output
    assert "--route billing=HANDLER" in result.output


def test_worker_without_a_handler_leaves_the_event_pending(store) -> None:
    from azora_store.sync import Router, Worker, WorkerConfig

    event = store.sync.enqueue("unknown-service", "Widget", 1, "CREATE", {}, max_attempts=1)
    Worker(store, Router({}), WorkerConfig(idle_min=0.001)).run_once()
    row = sql(store, "SELECT status, attempts, last_error FROM service_sync WHERE id = ?",
              event.id)[0]
    assert row == ("PENDING", 0, None)


@pytest.fixture(autouse=True)
def _no_stray_env(monkeypatch) -> None:
    monkeypatch.delenv("AZORA_DATABASE_URL", raising=False)
    os.environ.pop("AZORA_SYNC_ROUTES", None)
