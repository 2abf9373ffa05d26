"""``azora-store bench`` on PostgreSQL: the write benchmark's database is a
scratch database of the run's own (two runs at once never share one), dropped
when the run ends, also when it is interrupted."""

from __future__ import annotations

import json
import os
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


@pytest.mark.slow
def test_bench_plot_writes_the_outbox_throughput_by_workers(pg_server: PostgresServer,
                                                           tmp_path) -> None:
    """``bench --plot`` at tiny scale, the throughput benchmark alone: both
    backends, both no-op sinks, 1/2/4 workers, in the table, the JSON and a PNG."""
    pytest.importorskip("matplotlib")
    plots, figures = tmp_path / "plots", tmp_path / "bench.json"
    run = subprocess.run(
        [sys.executable, "-m", "azora_store", "bench", "--scale", "tiny", "-k", "throughput",
         "--plot", str(plots), "--json", str(figures)],
        capture_output=True, text=True, timeout=600, cwd=tmp_path,
        env={**os.environ, "AZORA_TEST_PG_URL": PG_URL})
    assert run.returncode == 0, run.stdout + run.stderr
    assert "outbox throughput (events per second" in run.stdout, run.stdout
    png = plots / "throughput-outbox.png"
    assert png.read_bytes().startswith(b"\x89PNG\r\n\x1a\n") and png.stat().st_size > 10_000
    rates = json.loads(figures.read_text())["throughput"]
    assert sorted((r["backend"], r["sink"], r["workers"]) for r in rates) == sorted(
        (backend, sink, workers) for backend in ("postgresql", "sqlite")
        for sink in ("in-transaction", "leased") for workers in (1, 2, 4))
    assert all(r["events"] == 1_000 and r["events_per_second"] > 0 for r in rates)
    assert json.loads((plots / "timings.json").read_text())["throughput"] == rates
