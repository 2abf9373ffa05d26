"""Chaos run: outbox -> broker -> another store, with kill -9s and a broker restart.

A private broker is used (NATS: a ``nats-server -js`` of its own on a free port
and directory; RabbitMQ: the shared server, with the consumer's connection
dropped instead of a restart), so the shared servers stay up.

1. N events (K keys) are queued in the producer database;
2. W worker processes publish them; every ``--kill-every`` seconds a worker
   holding leases (mid-batch) gets SIGKILL and is replaced, until ``--kills``;
3. halfway, the broker is restarted (NATS, kill -9 and start again on the same
   store) or every connection to it is closed (RabbitMQ);
4. a consumer process applies the stream into the consumer database, and is
   itself killed with SIGKILL once and restarted.

Then it checks: 0 lost (every event in ``event_log`` of the consumer), 0
duplicate effects (one row per (source, event id)), per-key order, and the
producer's counters equal to its COUNT(*). Exit status 1 if any check fails.

    python scripts/broker_chaos.py --broker nats --events 50000 --kills 20 \\
        --db sqlite:////tmp/chaos_edge.db --into postgresql://postgres@127.0.0.1:5432/chaos
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import asdict, dataclass, field
from typing import Any

AMQP = "amqp://guest:guest@127.0.0.1:5672/"


@dataclass
class ChaosReport:
    broker: str
    events: int
    worker_kills: int = 0
    consumer_kills: int = 0
    broker_restarts: int = 0
    redelivered: int = 0  # events published more than once (attempts > 1 or deferred)
    seconds: float = 0.0
    applied: int = 0
    lost: int = 0
    duplicate_effects: int = 0
    out_of_order_keys: int = 0
    counters_match: bool = False
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class PrivateNats:
    """A nats-server with JetStream on its own port and store directory."""

    def __init__(self) -> None:
        self.port = free_port()
        self.dir = tempfile.mkdtemp(prefix="azora_chaos_nats_")
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"nats://127.0.0.1:{self.port}"

    def start(self) -> None:
        self.process = subprocess.Popen(
            [shutil.which("nats-server") or "/usr/sbin/nats-server", "-js", "-a", "127.0.0.1",
             "-p", str(self.port), "-sd", self.dir], stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.5).close()
                return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("the private nats-server did not start")

    def kill(self) -> None:
        if self.process is not None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait()

    def stop(self) -> None:
        self.kill()
        shutil.rmtree(self.dir, ignore_errors=True)


def close_rabbitmq_connections() -> int:
    """Drop azora-store's client connections to the shared RabbitMQ (a network
    cut), leaving everyone else's alone."""
    result = subprocess.run(["rabbitmqctl", "-q", "list_connections", "pid",
                             "client_properties"], capture_output=True, text=True, timeout=30)
    pids = [line.split()[0] for line in result.stdout.splitlines()
            if "azora-store" in line and line.split()]
    for pid in pids:
        subprocess.run(["rabbitmqctl", "-q", "close_connection", pid, "azora chaos"],
                       capture_output=True, timeout=30)
    return len(pids)


def _python() -> list[str]:
    return [sys.executable, "-m", "azora_store"]


def run(db: str, into: str, broker: str = "nats", events: int = 50_000, keys: int = 5_000,
        workers: int = 2, kills: int = 20, kill_every: float = 0.5, batch: int = 250,
        lease: float = 2.0, timeout: float = 600.0) -> ChaosReport:
    from azora_store import open_store

    report = ChaosReport(broker, events)
    tag = uuid.uuid4().hex[:8]
    nats = PrivateNats() if broker == "nats" else None
    if nats is not None:
        nats.start()
        route = f"nats:{nats.url}?stream=CHAOS{tag}&prefix=chaos{tag}"
        source_url = f"{nats.url}?stream=CHAOS{tag}&prefix=chaos{tag}"
    else:
        route = f"rabbitmq:{AMQP}?exchange=chaos{tag}&queue=chaos{tag}"
        source_url = f"{AMQP}?exchange=chaos{tag}&queue=chaos{tag}"
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    worker_cmd = [*_python(), "sync", "worker", "--db", db, "--batch", str(batch), "--lease",
                  str(lease), "--housekeeping", "0.5", "--route", f"chaos={route}"]
    consumer_cmd = [*_python(), "sync", "consume", broker, "--from", source_url, "--into", into,
                    "--name", f"chaos-{tag}"]
    producer = open_store(db)
    producer.migrate()
    with open_store(into) as consumer_store:
        consumer_store.migrate()
    source = producer.backend.source_identity()
    producer.sync.enqueue_many({"service": "chaos", "entity_type": "Job",
                                "entity_id": n % keys, "operation": "UPDATE",
                                "payload": {"n": n}, "max_attempts": 100}
                               for n in range(events))

    def spawn(cmd: list[str]) -> subprocess.Popen:
        return subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                env=env)

    started = time.monotonic()
    pool = [spawn(worker_cmd) for _ in range(workers)]
    consumer = spawn(consumer_cmd)
    restarted = False
    try:
        next_kill = time.monotonic() + kill_every
        while True:
            counts = producer.sync.status().counts
            if counts["COMPLETED"] >= events:
                break
            if time.monotonic() - started > timeout:
                report.problems.append(f"timed out with {dict(counts)}")
                break
            if not restarted and counts["COMPLETED"] >= events // 2:
                restarted = True
                report.broker_restarts += 1
                if nats is not None:
                    nats.kill()
                    time.sleep(0.5)
                    nats.start()
                else:
                    close_rabbitmq_connections()
                consumer.send_signal(signal.SIGKILL)
                consumer.wait()
                report.consumer_kills += 1
                consumer = spawn(consumer_cmd)
            if report.worker_kills < kills and time.monotonic() >= next_kill:
                holding = _lease_holders(producer)
                victims = [w for w in pool if w.pid in holding]
                if victims:
                    victim = victims[0]
                    victim.send_signal(signal.SIGKILL)
                    victim.wait()
                    report.worker_kills += 1
                    pool[pool.index(victim)] = spawn(worker_cmd)
                    next_kill = time.monotonic() + kill_every
            time.sleep(0.02)
        # Let the consumer drain the rest of the stream.
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and _applied(into, source) < events:
            time.sleep(0.2)
    finally:
        for process in [*pool, consumer]:
            process.send_signal(signal.SIGTERM)
        for process in [*pool, consumer]:
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
        if nats is not None:
            nats.stop()
        else:
            _delete_rabbitmq(f"chaos{tag}")
    report.seconds = round(time.monotonic() - started, 1)
    _check(report, producer, into, source, events)
    producer.close()
    return report


def _delete_rabbitmq(name: str) -> None:
    """Remove the run's queue and exchange from the shared server."""
    import asyncio

    import aio_pika

    async def delete() -> None:
        connection = await aio_pika.connect(AMQP)
        channel = await connection.channel()
        await channel.queue_delete(name)
        await channel.exchange_delete(name)
        await connection.close()

    asyncio.run(delete())


def _lease_holders(store: Any) -> set[int]:
    rows = store.db.execute_sql("SELECT DISTINCT lease_owner FROM service_sync "
                                "WHERE status = 'PROCESSING'").fetchall()
    return {int(owner.split(":")[1]) for (owner,) in rows if owner}


def _applied(into: str, source: str) -> int:
    from azora_store import open_store

    with open_store(into) as store:
        p = store.db.param
        return store.db.execute_sql(f"SELECT COUNT(*) FROM event_log WHERE source = {p}",
                                    (source,)).fetchone()[0]


def _check(report: ChaosReport, producer: Any, into: str, source: str, events: int) -> None:
    from azora_store import open_store

    counts = producer.sync.status().counts
    counted: dict[str, int] = {}
    for (_service, status), count in producer.sync.counted().items():
        counted[status] = counted.get(status, 0) + count
    report.counters_match = all(counts[s] == counted.get(s, 0) for s in counts)
    if not report.counters_match:
        report.problems.append(f"counters {dict(counts)} != COUNT(*) {counted}")
    if counts["COMPLETED"] != events:
        report.problems.append(f"producer: {dict(counts)}, expected {events} COMPLETED")
    report.redelivered = producer.db.execute_sql(
        "SELECT COUNT(*) FROM service_sync WHERE attempts > 1").fetchone()[0]
    with open_store(into) as store:
        p = store.db.param
        rows = store.db.execute_sql(f"SELECT event_id, entity_id FROM event_log "
                                    f"WHERE source = {p} ORDER BY id", (source,)).fetchall()
    ids = [event_id for event_id, _ in rows]
    report.applied = len(set(ids))
    report.lost = events - report.applied
    report.duplicate_effects = len(ids) - len(set(ids))
    per_key: dict[str, list[int]] = {}
    for event_id, key in rows:
        per_key.setdefault(key, []).append(event_id)
    report.out_of_order_keys = sum(1 for seen in per_key.values() if seen != sorted(seen))
    for what in ("lost", "duplicate_effects", "out_of_order_keys"):
        if getattr(report, what):
            report.problems.append(f"{what}: {getattr(report, what)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--broker", choices=["nats", "rabbitmq"], default="nats")
    parser.add_argument("--db", required=True, help="producer database URL")
    parser.add_argument("--into", required=True, help="consumer database URL")
    parser.add_argument("--events", type=int, default=50_000)
    parser.add_argument("--keys", type=int, default=5_000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--kills", type=int, default=20)
    parser.add_argument("--kill-every", type=float, default=0.5)
    args = parser.parse_args()
    report = run(args.db, args.into, args.broker, args.events, args.keys, args.workers,
                 args.kills, args.kill_every)
    print(json.dumps(asdict(report), indent=2))
    sys.exit(0 if report.ok else 1)


if __name__ == "__main__":
    main()
