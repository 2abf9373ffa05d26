"""``azora-store bench``: run the benchmark suite (``azora_store/bench/suite``,
shipped with the package) and print the percentile table; a breached threshold
makes the exit status 1."""

from __future__ import annotations

import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import click

from ..backends import DatabaseURL, backend_class
from ..seed import SCALES
from ..support.extras import check

SUITE = Path(__file__).resolve().with_name("suite")


def pytest_arguments(scale: str, backend: str, url: str | None, json_path: str | None,
                     rounds: int, seed: int, select: str | None,
                     plot_dir: str | None = None) -> list[str]:
    """The pytest command line that runs the suite as asked."""
    args = [str(SUITE), "-p", "no:cacheprovider", "-q", "--benchmark-sort=name",
            "--scale", scale, "--seed", str(seed), "--rounds", str(rounds)]
    if plot_dir:
        args += ["--bench-plot", plot_dir]
    if url is not None:
        backend = backend_class(DatabaseURL.parse(url).scheme).name  # a URL names its backend
        args += ["--db", url]
    if json_path:
        args += ["--bench-json", json_path]
    chosen = [k for k in (backend if backend != "both" else None, select) if k]
    if chosen:
        args += ["-k", " and ".join(f"({k})" for k in chosen)]
    return args


@click.command("bench")
@click.option("--scale", type=click.Choice(list(SCALES)), default="small", show_default=True,
              help="Dataset scale; seeded once into .benchmarks/data (and a Postgres database "
                   "azora_bench_<scale>_<seed> on $AZORA_TEST_PG_URL's server) and reused.")
@click.option("--backend", type=click.Choice(["both", "sqlite", "postgresql"]), default="both",
              show_default=True)
@click.option("--db", "url", default=None, metavar="URL",
              help="An already seeded database to measure instead (its backend only).")
@click.option("--json", "json_path", type=click.Path(dir_okay=False),
              help="Also write the percentile table (and any breaches) to this JSON file.")
@click.option("--rounds", type=click.IntRange(10, 100_000), default=300, show_default=True,
              help="Timed calls per benchmark.")
@click.option("--seed", type=int, default=42, show_default=True, help="Seed of the dataset.")
@click.option("-k", "select", help="Only benchmarks matching this pytest -k expression.")
@click.option("--plot", "plot_dir", type=click.Path(file_okay=False), metavar="DIR",
              help="Also write PNG latency distributions per query and backend (the raw "
                   "driver beside the package, p50/p95/p99 marked) and the timings to DIR "
                   "(needs the plots extra).")
def bench_command(scale: str, backend: str, url: str | None, json_path: str | None,
                  rounds: int, seed: int, select: str | None, plot_dir: str | None) -> None:
    """Measure the four target queries (p50/p95/p99, and the raw driver's p50
    for the same SQL) and check the thresholds (azora_store/bench/thresholds.toml).

    Needs the bench extra (pip install 'azora_store[bench]': pytest,
    pytest-benchmark, numpy to seed) and the pg extra for PostgreSQL.

    \b
    Example:
      azora-store bench --scale small --json bench.json
      azora-store bench --db sqlite:///large.db --scale large -k search
      azora-store bench --scale medium --plot docs/img/bench
    """
    check(("pytest", "pytest_benchmark") + (("numpy",) if url is None else ()),
          "azora-store bench", extra="bench")
    if plot_dir:
        check(("matplotlib",), "azora-store bench --plot")
    if url is not None:  # a bad URL or a missing database is reported before pytest starts
        from ..store import open_store

        with open_store(url, create=False) as store:
            store.backend.fetch("SELECT 1", ())
    args = pytest_arguments(scale, backend, url, json_path, rounds, seed, select, plot_dir)
    sys.exit(run_until_done([sys.executable, "-m", "pytest", *args]))


def run_until_done(command: list[str]) -> int:
    """Run ``command`` (pytest) and wait for it, even through Ctrl-C or SIGTERM.

    pytest runs in a process group of its own, so the terminal's Ctrl-C reaches
    only this process, which passes one SIGINT on: pytest then stops and tears
    its fixtures down (dropping the scratch databases it made) before exiting.
    (``subprocess.run`` would kill it 0.25 s after a Ctrl-C, mid-teardown.)"""
    # SIGINT's default in the child: a shell starts background jobs with it ignored.
    child = subprocess.Popen(command, process_group=0,
                             preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))

    def interrupt(signum: int, frame: Any) -> None:
        if child.poll() is None:
            child.send_signal(signal.SIGINT)

    previous = {signum: signal.signal(signum, interrupt)
                for signum in (signal.SIGINT, signal.SIGTERM)}
    try:
        return child.wait()
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
