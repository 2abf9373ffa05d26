"""``doctor``'s query plans and the ``bench`` command."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from azora_store.bench.command import pytest_arguments
from azora_store.cli import cli
from azora_store.doctor import diagnose
from azora_store.queries import search_jobs
from azora_store.search.plans import capture, query_plans

ROOT = Path(__file__).resolve().parents[1]


def test_full_scans_are_named_by_table(store) -> None:
    backend, p = store.backend, store.db.param
    on_postgres = backend.name == "postgresql"
    scan = f"SELECT j.id FROM jobs AS j WHERE j.description = {p}"
    assert backend.full_scans(scan, backend.explain(scan, ["x"])) == ["jobs"]
    if on_postgres:  # an empty table is cheapest to read whole: make the planner probe
        store.db.execute_sql("SET enable_seqscan = off")
    probe = f"SELECT j.id FROM jobs AS j WHERE j.id = {p}"
    assert backend.full_scans(probe, backend.explain(probe, [1])) == []
    assert backend.estimated_rows("jobs") >= 0


def test_capture_records_the_statements_a_query_runs(store) -> None:
    statements = capture(store, lambda: search_jobs(store))
    assert statements and all(sql.lstrip().upper().startswith("SELECT")
                              for sql, _, _ in statements)


def test_query_plans_cover_the_four_queries(store) -> None:
    plans = {plan.name: plan for plan in query_plans(store)}
    assert {"search_jobs(newest)", "user_stats", "sync_status", "kyc_lookup(user)"} <= set(plans)
    for name in ("search_jobs(newest)", "user_stats", "sync_status", "kyc_lookup(user)"):
        assert plans[name].statements and all(lines for _, lines in plans[name].statements)
    report = diagnose(store)
    assert any(title == "plan of user_stats" for title, _ in report.sections)
    assert not report.problems


def test_bench_arguments_select_the_backend() -> None:
    args = pytest_arguments("small", "both", "sqlite:///data/x.db", "out.json", 50, 1, "kyc")
    assert args[args.index("--db") + 1] == "sqlite:///data/x.db"
    assert args[args.index("-k") + 1] == "(sqlite) and (kyc)"
    assert "--bench-json" in args
    assert "-k" not in pytest_arguments("small", "both", None, None, 50, 1, None)


@pytest.mark.slow
def test_bench_runs_the_suite_and_writes_the_table(tmp_path) -> None:
    out = tmp_path / "bench.json"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    run = subprocess.run([sys.executable, "-m", "azora_store", "bench", "--scale", "tiny",
                          "--backend", "sqlite", "--rounds", "10", "-k", "kyc or sync_status",
                          "--json", str(out)], cwd=ROOT, env=env, capture_output=True,
                         text=True, timeout=600)
    assert run.returncode in (0, 1), run.stdout + run.stderr  # 1: a threshold breached
    table = json.loads(out.read_text())
    names = {f["name"] for f in table["figures"]}
    assert {"sync_status", "kyc_lookup/user", "kyc_lookup/document"} <= names
    assert all(f["backend"] == "sqlite" and f["p99"] >= f["p50"] > 0 and f["raw_p50"] > 0
               for f in table["figures"])


def test_bench_refuses_a_bad_url() -> None:
    result = CliRunner().invoke(cli, ["bench", "--db", "nonsense"])
    assert result.exit_code != 0 and "not a database URL" in result.output
