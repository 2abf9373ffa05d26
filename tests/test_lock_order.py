"""One lock order for every workflow that touches an escrow: its job first, then
the escrow (``market/common.py``). Sixteen real processes race on a few escrows,
mixing top-ups, new milestones and disputes; on Postgres a workflow that locked
the escrow before the job used to deadlock with ``fund_escrow`` (job, then
escrow) through the foreign key's KEY SHARE lock on the job row."""

from __future__ import annotations

import multiprocessing
from decimal import Decimal
from typing import Any

import pytest

from azora_store.store import Store
from tests.test_ledger import assert_ledger_invariants, collect

PROCESSES = 16
ROUNDS = 6
STEPS = 3  # calls per process per round
BUSY = 3  # escrows that only get top-ups and milestones
DISPUTED = 2  # escrows that also get a dispute, one round each


def hired_job(store: Store, n: int) -> tuple[int, int, int, int]:
    """(job id, escrow id, client id, freelancer id): a hired job with a funded escrow."""
    m = store.market
    client = m.create_user(f"client{n}@example.org", f"Client {n}")
    freelancer = m.create_user(f"free{n}@example.org", f"Freelancer {n}")
    m.deposit(client.id, "100000.00", "USD", idempotency_key=f"deposit-{n}")
    job = m.post_job(client.id, f"Job {n}", "work", "500.00", "USD", ["Python"])
    m.hire(m.apply(job.id, freelancer.id, "I can").id, actor_id=client.id)
    escrow_id = m.fund_escrow(job.id, "1000.00", idempotency_key=f"fund-{n}").escrow_id
    return job.id, escrow_id, client.id, freelancer.id


def race(url: str, barrier: Any, results: Any, n: int, busy: list[tuple],
         disputed: list[tuple]) -> None:
    """One racing process (spawned): each round every process works on the same
    escrow, half topping it up, half adding milestones; in a dispute round one
    process opens the dispute meanwhile. Reports (n, deadlocks, other errors)."""
    import os

    from azora_store import open_store
    from azora_store.crypto import KEY_ENV, generate_key
    from azora_store.errors import AzoraError, DatabaseBusy

    os.environ.setdefault(KEY_ENV, generate_key())
    store = open_store(url)
    deadlocks, other = 0, []
    try:
        for round_ in range(ROUNDS):
            job_id, escrow_id, client_id, _ = (
                disputed[round_ // 3] if round_ % 3 == 2 and round_ // 3 < len(disputed)
                else busy[round_ % len(busy)])
            barrier.wait(timeout=120)
            for step in range(STEPS):
                try:
                    if round_ % 3 == 2 and n == step:
                        store.market.open_dispute(job_id, client_id, "late delivery")
                    elif (n + step) % 2:
                        store.market.fund_escrow(job_id, "1.00",
                                                 idempotency_key=f"top-{n}-{round_}-{step}")
                    else:
                        store.market.add_milestone(escrow_id, f"part {n}.{round_}.{step}",
                                                   Decimal("0.50"))
                except DatabaseBusy as exc:
                    if "deadlock" in str(exc):
                        deadlocks += 1
                    else:
                        other.append(str(exc))
                except AzoraError:
                    pass  # a frozen escrow refuses further work: expected after a dispute
        results.put((n, deadlocks, other))
    finally:
        store.close()


@pytest.mark.slow
def test_sixteen_processes_mixing_workflows_never_deadlock(store, db_url: str) -> None:
    busy = [hired_job(store, n) for n in range(BUSY)]
    disputed = [hired_job(store, BUSY + n) for n in range(DISPUTED)]
    context = multiprocessing.get_context("spawn")
    barrier, results = context.Barrier(PROCESSES), context.Queue()
    processes = [context.Process(target=race, args=(db_url, barrier, results, n, busy,
                                                     disputed))
                 for n in range(PROCESSES)]
    for process in processes:
        process.start()
    outcomes = collect(results, processes, timeout=300)
    for process in processes:
        process.join(timeout=60)
    deadlocks = sum(outcome[1] for outcome in outcomes)
    others = [error for outcome in outcomes for error in outcome[2]]
    print(f"deadlocks at {PROCESSES} processes: {deadlocks}")
    assert (deadlocks, others) == (0, [])
    assert all(store.market.escrow_for_job(job_id).status == "FROZEN"
               for job_id, *_ in disputed)
    assert_ledger_invariants(store)
