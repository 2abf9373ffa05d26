"""``azora-store bench`` on PostgreSQL: the write benchmark's database is a
scratch database of the run's own (two runs at once never share one), dropped
when the run ends, also when it is interrupted."""

from __future__ import annotations

import signal
import subprocess
import sys
import time

import pytest

from tests.conftest import PG_URL, PostgresServer


def _scratch_databases(server: PostgresServer) -> set[tuple[str, int]]:
    """(name, oid) of every write-benchmark database on the server: a database
    dropped and created again under the same name has a new oid."""
    return set(server.conn.execute(
        "SELECT datname, oid FROM pg_database WHERE datname LIKE 'azora\\_bench\\_writes%'"
    ).fetchall())


def _bench(rounds: int) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "azora_store", "bench", "--backend", "postgresql", "-k",
         "enqueue", "--rounds", str(rounds), "--db", PG_URL],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


@pytest.mark.slow
def test_the_write_benchmark_drops_its_scratch_database(pg_server: PostgresServer) -> None:
    before = _scratch_databases(pg_server)
    run = _bench(20)
    out, _ = run.communicate(timeout=300)
    assert "enqueue/job_update" in out, out
    assert _scratch_databases(pg_server) - before == set()


@pytest.mark.slow
def test_an_interrupted_benchmark_drops_its_scratch_database(pg_server: PostgresServer) -> None:
    before = _scratch_databases(pg_server)
    run = _bench(100_000)  # minutes: far longer than the test waits
    try:
        deadline = time.monotonic() + 120
        while not (made := _scratch_databases(pg_server) - before):
            assert run.poll() is None, run.communicate()[0]
            assert time.monotonic() < deadline, "no scratch database appeared"
            time.sleep(0.1)
        time.sleep(1.0)  # into the run
        run.send_signal(signal.SIGINT)  # what Ctrl-C sends the command
        out, _ = run.communicate(timeout=120)
    finally:
        if run.poll() is None:
            run.kill()
            run.communicate()
    assert all(name.startswith("azora_bench_writes_") for name, _ in made), made
    assert "KeyboardInterrupt" in out, out
    assert made & _scratch_databases(pg_server) == set(), out
