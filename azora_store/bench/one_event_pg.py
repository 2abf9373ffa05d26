"""One event per round on PostgreSQL: the outbox worker at ``--batch 1``
beside pgqueuer's ``QueueManager`` at ``batch_size=1``, draining the same
backlog of no-op jobs on the same server.

Each library gets a fresh scratch database (``URL`` names the server; the
databases ``<name>_outbox`` and ``<name>_pgq`` are created and dropped). The
outbox runs a real worker process (``azora_store.bench.sync_throughput``),
leased and in-transaction; pgqueuer runs its own consumer loop in drain mode
(``QueueManager.run(batch_size=1, mode=drain)``) over psycopg's async driver,
in a process of its own, timed from its first job to its last (drain mode
spends ~5 s starting and making sure the queue stays empty; not counted, so
pgqueuer's figure is if anything flattered; the outbox's includes its start).
Runs alternate, so both see the same moments of the machine.

    python -m azora_store.bench.one_event_pg --db postgresql://127.0.0.1/bench --events 3000

(pgqueuer is not a dependency: ``pip install pgqueuer`` to run this.)
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import time
from typing import Any


def _pgq_drain(dsn: str, events: int, results: Any) -> None:
    import psycopg
    from pgqueuer import PsycopgDriver, Queries, QueueManager
    from pgqueuer.types import QueueExecutionMode

    async def drain() -> None:
        conn = await psycopg.AsyncConnection.connect(dsn, autocommit=True)
        queries = Queries(PsycopgDriver(conn))
        await queries.install()
        for start in range(0, events, 1000):
            size = min(1000, events - start)
            await queries.enqueue(["noop"] * size, [None] * size, [0] * size)
        manager = QueueManager(queries)
        seen: list[float] = []

        @manager.entrypoint("noop")
        async def noop(job: Any) -> None:
            seen.append(time.perf_counter())

        await manager.run(batch_size=1, mode=QueueExecutionMode.drain)
        # From the first job to the last: drain mode's start-up and its wait
        # to be sure the queue stays empty (~5 s) are not the per-job cost.
        results.put((len(seen), (seen[-1] - seen[0]) * len(seen) / max(len(seen) - 1, 1)))
        await conn.close()

    asyncio.run(drain())


def _maintenance(url: str) -> str:
    """The server's ``postgres`` database, from which scratch ones are made."""
    return url.rsplit("/", 1)[0] + "/postgres"


def _scratch(admin_url: str, name: str) -> str:
    """A fresh database ``name`` on the server of ``admin_url``; its URL."""
    import psycopg

    with psycopg.connect(_maintenance(admin_url), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        conn.execute(f'CREATE DATABASE "{name}"')
    return admin_url.rsplit("/", 1)[0] + "/" + name


def _drop(admin_url: str, name: str) -> None:
    import psycopg

    with psycopg.connect(_maintenance(admin_url), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def pgqueuer_rate(admin_url: str, events: int) -> float:
    """Jobs per second pgqueuer's consumer drains from a backlog at batch_size 1."""
    name = admin_url.rsplit("/", 1)[1] + "_pgq"
    dsn = _scratch(admin_url, name)
    try:
        context = multiprocessing.get_context("spawn")
        results = context.Queue()
        process = context.Process(target=_pgq_drain, args=(dsn, events, results))
        process.start()
        done, seconds = results.get(timeout=600)
        process.join()
    finally:
        _drop(admin_url, name)
    assert done == events, f"pgqueuer drained {done} of {events}"
    return round(events / seconds)


def outbox_rate(admin_url: str, events: int, leased: bool) -> float:
    from azora_store.bench.sync_throughput import measure

    name = admin_url.rsplit("/", 1)[1] + "_outbox"
    url = _scratch(admin_url, name)
    try:
        result = measure(url, 1, events, batch=1, leased=leased)
        assert result.duplicates == 0, result
        return result.events_per_second
    finally:
        _drop(admin_url, name)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", required=True, help="a PostgreSQL URL; scratch databases "
                        "named after it are created and dropped")
    parser.add_argument("--events", type=int, default=3000)
    parser.add_argument("--repeat", type=int, default=2)
    args = parser.parse_args()
    for round_ in range(args.repeat):
        row = {"round": round_ + 1, "events": args.events,
               "pgqueuer": pgqueuer_rate(args.db, args.events),
               "outbox_leased": outbox_rate(args.db, args.events, leased=True),
               "outbox_in_transaction": outbox_rate(args.db, args.events, leased=False)}
        print(json.dumps(row), flush=True)


if __name__ == "__main__":
    main()
