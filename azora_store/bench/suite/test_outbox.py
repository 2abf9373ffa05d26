"""Enqueue overhead: a domain write with its outbox event, timed interleaved
with the same write alone, each in its own transaction, on a fresh database
per backend. The table's base column is the write alone, so its ratio is the
overhead."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack
from decimal import Decimal
from itertools import count
from typing import Any

import pytest

from azora_store import open_store
from azora_store.models import Job, User


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def write_store(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
                ) -> Iterator[Any]:
    with ExitStack() as cleanup:
        if request.param == "sqlite":
            url = f"sqlite:///{tmp_path_factory.mktemp('writes') / 'writes.db'}"
        else:  # a scratch database of this run, dropped after it
            url = cleanup.enter_context(request.getfixturevalue("pg_admin").scratch(
                "azora_bench_writes"))
        store = cleanup.enter_context(open_store(url))
        store.migrate()
        with store.atomic():
            client = User.create(email="bench@example.org", full_name="Bench")
            job = Job.create(client=client, title="Benchmark job", budget=Decimal("10.00"),
                             currency="USD")
        store.bench_job_id = job.id
        yield store


def test_enqueue_overhead(measure, write_store) -> None:
    store, job_id, n = write_store, write_store.bench_job_id, count()

    def write() -> None:
        with store.atomic():
            Job.update(title=f"Benchmark job {next(n)}").where(Job.id == job_id).execute()

    def write_and_enqueue() -> None:
        with store.atomic():
            title = f"Benchmark job {next(n)}"
            Job.update(title=title).where(Job.id == job_id).execute()
            store.sync.enqueue("search", "Job", job_id, "UPDATE", {"title": title})

    measure("enqueue/job_update", [write_and_enqueue], [write], store=store)
