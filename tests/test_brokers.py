"""Outbox to real brokers: NATS JetStream (127.0.0.1:4222) and RabbitMQ
(127.0.0.1:5672, guest/guest), both running on this machine; no mocks.

Every test names its own stream / exchange / queue and removes it afterwards.
With CI=true an unreachable broker fails the tests instead of skipping them.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
import uuid
from collections.abc import Iterator

import pytest
from click.testing import CliRunner

from azora_store import open_store
from azora_store.cli import cli
from azora_store.sync import Router, Worker, WorkerConfig
from azora_store.sync.brokers.consumer import Applier, Limits, consume_nats, consume_rabbitmq
from tests.conftest import IN_CI, _fresh_url
from tests.helpers import sql

NATS = "nats://127.0.0.1:4222"
AMQP = "amqp://guest:guest@127.0.0.1:5672/"
EVENTS = 240
KEYS = 12  # twenty events per key: per-key order is checked


def reachable(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
        return True
    except OSError:
        return False


@pytest.fixture(scope="module", autouse=True)
def brokers_up() -> None:
    missing = [name for name, port in (("NATS", 4222), ("RabbitMQ", 5672))
               if not reachable(port)]
    if missing:
        reason = f"{' and '.join(missing)} not answering on 127.0.0.1"
        if IN_CI:
            pytest.fail(f"{reason} (CI=true: broker tests must run; .ci/run starts them)")
        pytest.skip(reason)


@pytest.fixture
def names() -> Iterator[dict[str, str]]:
    """A private stream / subject prefix / exchange / queue, removed afterwards."""
    tag = uuid.uuid4().hex[:8]
    made = {"stream": f"T{tag}", "prefix": f"t{tag}", "exchange": f"t{tag}",
            "queue": f"t{tag}_q"}
    yield made
    asyncio.run(_cleanup(made))


async def _cleanup(made: dict[str, str]) -> None:
    import aio_pika
    import nats
    from nats.js.errors import NotFoundError

    nc = await nats.connect(NATS)
    with contextlib.suppress(NotFoundError):
        await nc.jetstream().delete_stream(made["stream"])
    await nc.close()
    connection = await aio_pika.connect(AMQP)
    channel = await connection.channel()
    await channel.queue_delete(made["queue"])
    await channel.exchange_delete(made["exchange"])
    await connection.close()


@pytest.fixture
def other_url(request: pytest.FixtureRequest, backend_name: str, tmp_path) -> Iterator[str]:
    """A second fresh database on the OTHER backend: the consuming side."""
    other = "postgresql" if backend_name == "sqlite" else "sqlite"
    (tmp_path / "other").mkdir()
    yield from _fresh_url(request, other, tmp_path / "other", migrated=True)


def nats_route(names: dict[str, str], extra: str = "") -> str:
    return f"nats:{NATS}?stream={names['stream']}&prefix={names['prefix']}{extra}"


def rabbit_route(names: dict[str, str], queue: bool = True, url: str = AMQP) -> str:
    return f"rabbitmq:{url}?exchange={names['exchange']}" + (
        f"&queue={names['queue']}" if queue else "")


def enqueue(store, count: int = EVENTS, keys: int = KEYS) -> None:
    store.sync.enqueue_many({"service": "notifications", "entity_type": "Job",
                             "entity_id": n % keys, "operation": "UPDATE",
                             "payload": {"n": n}} for n in range(count))


def run_worker(store, route: str, **config) -> Worker:
    config.setdefault("exit_when_idle", True)
    config.setdefault("batch", 50)
    worker = Worker(store, Router.parse([f"notifications={route}"]), WorkerConfig(**config))
    worker.run()
    return worker


def statuses(store) -> dict[str, int]:
    return dict(sql(store, "SELECT status, COUNT(*) FROM service_sync GROUP BY status"))


def assert_applied_once_in_order(consumer_store, source: str, count: int) -> None:
    rows = sql(consumer_store, "SELECT event_id, entity_id FROM event_log WHERE source = ? "
                               "ORDER BY id", source)
    ids = [event_id for event_id, _ in rows]
    assert len(ids) == count and len(set(ids)) == count, "each event once in effect"
    by_key: dict[str, list[int]] = {}
    for event_id, key in rows:
        by_key.setdefault(key, []).append(event_id)
    for key, seen in by_key.items():
        assert seen == sorted(seen), f"events of key {key} applied out of order"
    consumed = sql(consumer_store, "SELECT COUNT(*) FROM consumed_events WHERE source = ?",
                   source)
    assert consumed == [(count,)]


def consume(url: str, broker: str, names: dict[str, str], **limits) -> Applier:
    limits.setdefault("idle_exit", 1.5)
    with open_store(url) as store:
        applier = Applier(store, f"test-{broker}")
        if broker == "nats":
            source = f"{NATS}?stream={names['stream']}&prefix={names['prefix']}"
            asyncio.run(consume_nats(source, applier, Limits(**limits)))
        else:
            source = f"{AMQP}?exchange={names['exchange']}&queue={names['queue']}"
            asyncio.run(consume_rabbitmq(source, applier, Limits(**limits)))
    return applier


@pytest.mark.parametrize("broker", ["nats", "rabbitmq"])
def test_round_trip_applies_every_event_once_in_key_order(
        db_url: str, other_url: str, names: dict[str, str], broker: str) -> None:
    """SQLite -> broker -> Postgres and Postgres -> broker -> SQLite, for each
    broker. Each batch is published twice (a worker that crashed after the
    publish): the consumer's effect still happens once per event."""
    route = nats_route(names) if broker == "nats" else rabbit_route(names)
    with open_store(db_url) as store:
        enqueue(store)
        source = store.backend.source_identity()
        worker = run_worker(store, route)
        assert worker.stats.completed == EVENTS
        assert statuses(store) == {"COMPLETED": EVENTS}
        # The same events again, as a rescued lease would publish them.
        handler = worker.router.handler_for(_any_event(store))
        replay = _events(store)
        results = handler.deliver_batch(replay, store)
        assert results == [None] * len(replay)
        handler.close()
    applier = consume(other_url, broker, names)
    assert applier.stats.applied == EVENTS
    assert applier.stats.duplicates == (0 if broker == "nats" else len(replay))
    with open_store(other_url) as consumer_store:
        assert_applied_once_in_order(consumer_store, source, EVENTS)
    # A second consumer run (a restart) applies nothing again.
    again = consume(other_url, broker, names, idle_exit=1.0)
    assert again.stats.applied == 0


def _events(store) -> list:
    """Every event of the outbox as a worker sees it (for a replay)."""
    from azora_store.sync.outbox import Event

    rows = sql(store, "SELECT id, service, entity_type, entity_id, operation, "
                      "CAST(payload AS TEXT), attempts, max_attempts, ordering_key, created_at "
                      "FROM service_sync ORDER BY id")
    return [Event(*row, read_json=store.backend.read_json,
                  read_datetime=store.backend.read_datetime) for row in rows]


def _any_event(store):
    return _events(store)[0]


def test_events_of_two_sources_with_the_same_ids_are_both_applied(
        db_url: str, other_url: str, names: dict[str, str]) -> None:
    """Two edge databases both have events 1..N: (source, id) keeps them apart."""
    route = nats_route(names)
    sources = []
    for url in (db_url, other_url):
        with open_store(url) as store:
            enqueue(store, 30)
            sources.append(store.backend.source_identity())
            run_worker(store, route)
    assert sources[0] != sources[1]
    applier = consume(db_url, "nats", names)
    assert applier.stats.applied == 60
    with open_store(db_url) as store:
        for source in sources:
            assert_applied_once_in_order(store, source, 30)


# -- a broker that refuses ------------------------------------------------------------


def refusing_routes(names: dict[str, str]) -> dict[str, tuple[str, str]]:
    return {
        "nats-no-stream": (nats_route(names, "&create=false"), "does not exist"),
        "nats-unreachable": (f"nats:nats://127.0.0.1:{free_port()}?stream=X", "unreachable"),
        "rabbitmq-auth": (rabbit_route(names, url="amqp://guest:wrong@127.0.0.1:5672/"),
                          "refused the login"),
        "rabbitmq-no-exchange": (f"rabbitmq:{AMQP}?exchange={names['exchange']}&declare=false",
                                 "NOT_FOUND"),
    }


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.parametrize("case", ["nats-no-stream", "nats-unreachable", "rabbitmq-auth",
                                  "rabbitmq-no-exchange"])
def test_a_refusing_broker_defers_with_one_error_line(
        store, names: dict[str, str], case: str, caplog: pytest.LogCaptureFixture) -> None:
    """Nothing is COMPLETED, no attempt is spent (never FAILED within seconds),
    the reason is recorded, and the log says it once, not once per event."""
    route, reason = refusing_routes(names)[case]
    enqueue(store, 100, keys=100)  # every event a head: all claimable at once
    caplog.set_level(logging.INFO, logger="azora_store.sync")
    # Three rounds over the 100 events (each deferred a little longer): the
    # outage is logged once, not once per event or per round.
    run_worker(store, route, batch=25, max_events=300, exit_when_idle=False)
    assert statuses(store) == {"PENDING": 100}
    assert sql(store, "SELECT MAX(attempts) FROM service_sync") == [(0,)]
    errors = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
    assert len(errors) == 1, errors
    assert reason in errors[0] and "no attempt spent" in errors[0]
    assert "\n" not in errors[0]
    (last_error,) = sql(store, "SELECT DISTINCT last_error FROM service_sync")[0]
    assert reason in last_error


def test_unroutable_rabbitmq_messages_are_failed_attempts(
        store, names: dict[str, str]) -> None:
    """An exchange with no queue bound returns every mandatory message: each is a
    failed attempt (retried with backoff), FAILED after max_attempts, never
    COMPLETED."""
    store.sync.enqueue_many({"service": "notifications", "entity_type": "Job",
                             "entity_id": n, "operation": "UPDATE", "max_attempts": 2}
                            for n in range(20))
    route = rabbit_route(names, queue=False)
    run_worker(store, route, backoff_base=0.01, backoff_cap=0.02, housekeeping_every=0.1)
    assert statuses(store) == {"FAILED": 20}
    (error,) = sql(store, "SELECT DISTINCT last_error FROM service_sync")[0]
    assert "unroutable" in error and "notifications.Job" in error


def test_doctor_reports_each_broker_route(db_url: str, names: dict[str, str]) -> None:
    with open_store(db_url) as store:
        enqueue(store, 10)
        run_worker(store, nats_route(names, "&duplicate_window=60"))
    result = CliRunner().invoke(cli, [
        "doctor", "--db", db_url, "--route", f"n={nats_route(names)}",
        "--route", f"r={rabbit_route(names)}"])
    out = result.output
    assert "route n (nats)" in out and "route r (rabbitmq)" in out
    assert "stream present    yes (10 messages)" in out
    assert "duplicate window  60s" in out
    assert "duplicate window 60s is shorter than the worker's longest redelivery gap" in out
    assert "exchange present  no (the worker declares it)" in out
    missing = CliRunner().invoke(cli, [
        "doctor", "--db", db_url, "--route", f"n=nats:nats://127.0.0.1:{free_port()}"])
    assert missing.exit_code == 1
    assert "PROBLEM: nats nats://127.0.0.1" in missing.output and "unreachable" in missing.output


def test_a_stream_created_by_the_worker_covers_its_redelivery_gap(
        store, names: dict[str, str]) -> None:
    enqueue(store, 5)
    worker = run_worker(store, nats_route(names), lease=10, backoff_cap=100)
    handler = worker.router.handler_for(_any_event(store))
    assert handler.window_warning is None

    async def window() -> float:
        import nats

        nc = await nats.connect(NATS)
        info = await nc.jetstream().stream_info(names["stream"])
        await nc.close()
        return info.config.duplicate_window

    assert asyncio.run(window()) >= 10 + 1 + 100


def test_bad_broker_urls_name_the_option() -> None:
    from azora_store.errors import ConfigurationError
    from azora_store.sync.handlers import load_handler

    with pytest.raises(ConfigurationError, match="option 'stram' is unknown"):
        load_handler(f"nats:{NATS}?stram=X")
    with pytest.raises(ConfigurationError, match="needs a amqp:// URL"):
        load_handler("rabbitmq:http://127.0.0.1")
    with pytest.raises(ConfigurationError, match="timeout must be a number"):
        load_handler(f"nats:{NATS}?timeout=soon")


def test_a_missing_driver_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    import sys

    from azora_store.errors import ConfigurationError
    from azora_store.sync.handlers import load_handler

    monkeypatch.setitem(sys.modules, "nats", None)  # as if nats-py were not installed
    with pytest.raises(ConfigurationError, match=r"pip install 'azora_store\[nats\]'"):
        load_handler("nats")
    result = CliRunner().invoke(cli, ["sync", "consume", "nats", "--into", "sqlite:///x.db"])
    assert result.exit_code == 2
    assert "azora_store[nats]" in result.output


def test_a_nats_py_without_the_internals_used_is_refused_by_name(
        monkeypatch: pytest.MonkeyPatch) -> None:
    import nats
    from nats.aio.client import Client

    from azora_store.errors import ConfigurationError
    from azora_store.sync.brokers.nats_sink import PubAcks

    async def listen() -> None:
        nc = await nats.connect(NATS)
        try:
            with monkeypatch.context() as patch:  # as a nats-py that renamed it would be
                patch.delattr(Client, "_flush_pending")
                await PubAcks.listen(nc)
        finally:
            await nc.close()

    with pytest.raises(ConfigurationError, match=r"_flush_pending.*nats-py>=2.16,<3"):
        asyncio.run(listen())


@pytest.mark.slow
@pytest.mark.parametrize(("backend_name", "broker"), [("sqlite", "nats"),
                                                      ("postgresql", "rabbitmq")],
                         indirect=["backend_name"])
def test_chaos_kill_9_and_broker_drop_lose_nothing_and_apply_once(
        db_url: str, other_url: str, broker: str) -> None:
    """Worker processes killed with SIGKILL while holding leases, the broker
    restarted (NATS, a private server) or its connections closed (RabbitMQ),
    the consumer killed once: 0 lost, 0 duplicate effects, per-key order kept,
    counters equal COUNT(*). The full run is scripts/broker_chaos.py."""
    import importlib.util
    import sys
    from pathlib import Path

    path = Path(__file__).resolve().parent.parent / "scripts" / "broker_chaos.py"
    spec = importlib.util.spec_from_file_location("broker_chaos", path)
    chaos = importlib.util.module_from_spec(spec)
    sys.modules["broker_chaos"] = chaos  # dataclasses look their module up there
    spec.loader.exec_module(chaos)
    report = chaos.run(db_url, other_url, broker, events=1000, keys=100, workers=2, kills=3,
                       kill_every=0.3, batch=100, timeout=120)
    assert report.problems == []
    assert report.worker_kills == 3 and report.broker_restarts == 1
    assert report.redelivered > 0, "no kill landed mid-batch: the test proved nothing"
    assert (report.lost, report.duplicate_effects, report.out_of_order_keys) == (0, 0, 0)
    assert report.counters_match


def test_publish_rounds_never_hold_two_events_of_one_key() -> None:
    from azora_store.sync.brokers.common import waves
    from azora_store.sync.outbox import Event

    keys = ["a", "b", "a", "c", "a", "b"]
    events = [Event(n, "s", "Job", str(n), "UPDATE", {}, 1, 3, key, None)
              for n, key in enumerate(keys)]
    rounds = waves(events)
    assert rounds == [[0, 1, 3], [2, 5], [4]]
    for positions in rounds:
        in_round = [keys[p] for p in positions]
        assert len(in_round) == len(set(in_round))


def test_a_full_batch_stays_in_flight_and_completes_only_after_its_acks(
        db_url: str, names: dict[str, str]) -> None:
    """The worker claims batch 2 while batch 1's acks come back; batch 1 is
    COMPLETED in the claim after its acks landed, never before; the stream
    holds each event once."""
    with open_store(db_url) as store:
        enqueue(store, count=20, keys=20)
        worker = Worker(store, Router.parse([f"notifications={nats_route(names)}"]),
                        WorkerConfig(batch=10, leased_only=True))
        try:
            assert worker.run_once(settle_later=True) == 10
            assert statuses(store) == {"PROCESSING": 10, "PENDING": 10}
            assert worker.run_once(settle_later=True) == 10  # batch 1 landed, not completed
            assert statuses(store) == {"PROCESSING": 20}
            assert worker.run_once(settle_later=True) == 10  # nothing claimed; batch 2 landed
            assert statuses(store) == {"COMPLETED": 10, "PROCESSING": 10}
            assert worker.run_once(settle_later=True) == 0
            assert statuses(store) == {"COMPLETED": 20}
            assert worker.stats.completed == 20 and not worker._flights
        finally:
            worker._close_handlers()
    assert asyncio.run(_stream_messages(names["stream"])) == 20


async def _stream_messages(stream: str) -> int:
    import nats

    nc = await nats.connect(NATS)
    try:
        return (await nc.jetstream().stream_info(stream)).state.messages
    finally:
        await nc.close()
