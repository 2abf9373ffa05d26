"""The replica profile of ``loadtests/run.py`` (``--replica``; ``make load-replica``).

On a private primary + streaming replica (``tests/replica_pair.py``, free ports,
the shared server untouched), seeded at the scale:

1. the mixed workload plus read-your-writes (``AZORA_LOAD_CONSISTENCY=1``)
   against ``serve`` on the primary alone;
2. the same workload against ``serve`` with ``?replica=``, in the same run;
3. the stale-read probe (``stale_probe.py``) with the replica's apply delay
   raised to 2 s: N writes, each read back with and without its token.

Reported: per-route p95 of both phases, the reads' share on each server (from
``/metrics``), each server's transactions, rows returned and CPU per phase
(``pg_stat_database``, the cluster's processes), stale reads of the workload
(failures of "GET /api/jobs/{id} after write") and the probe's counts. Fails
when a phase breaks its gate or any read with a token was stale.
"""

from __future__ import annotations

import json
import re
import sys
import time
from pathlib import Path
from typing import Any

from run import DATA, ROOT, cpu_seconds, prepare, processes, report, say, serve_and_load
from stale_probe import probe

sys.path.insert(0, str(ROOT))
from tests.replica_pair import ReplicaPair

DATABASE = "azora_load"
READ_ROUTES = ("GET /api/jobs", "GET /api/jobs/{id}", "GET /api/users/{id}/stats",
               "GET /api/sync/status", "GET /api/kyc/{user_id}",
               "GET /api/jobs/{id} after write")
_READS = re.compile(r'^azora_db_reads_total\{reason="([^"]+)",target="([^"]+)"\} ([0-9.e+]+)$')


def cluster_pids(directory: Path) -> list[int]:
    """The postmaster of a data directory and its children (backends, walsender...)."""
    try:
        postmaster = int((directory / "postmaster.pid").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return []
    return processes(postmaster)


def snapshot(pair: ReplicaPair) -> dict[str, Any]:
    taken: dict[str, Any] = {}
    for name, replica, directory in (("primary", False, pair.primary_dir),
                                     ("replica", True, pair.replica_dir)):
        with pair.connect(DATABASE, replica=replica) as conn:
            conn.execute("SELECT pg_stat_clear_snapshot()")
            commits, returned = conn.execute(
                "SELECT xact_commit, tup_returned FROM pg_stat_database "
                "WHERE datname = current_database()").fetchone()
        taken[name] = {"transactions": int(commits), "rows_returned": int(returned),
                       "cpu": {pid: cpu_seconds([pid]) for pid in cluster_pids(directory)},
                       "at": time.monotonic()}
    return taken


def difference(before: dict[str, Any], after: dict[str, Any]) -> dict[str, Any]:
    out = {}
    for server in before:
        wall = after[server]["at"] - before[server]["at"]
        out[server] = {key: round(after[server][key] - before[server][key], 1)
                       for key in ("transactions", "rows_returned")}
        # Per process: backends the server opened during the phase count from 0.
        out[server]["cpu_seconds"] = round(sum(
            seconds - before[server]["cpu"].get(pid, 0.0)
            for pid, seconds in after[server]["cpu"].items()), 1)
        out[server]["transactions_per_s"] = round(out[server]["transactions"] / wall, 1)
        out[server]["cpu_percent"] = round(100 * out[server]["cpu_seconds"] / wall, 1)
    return out


def reads_share(base: str) -> dict[str, Any]:
    """Read paths per server from the server's /metrics (every worker summed)."""
    import urllib.request

    with urllib.request.urlopen(f"{base}/metrics", timeout=10) as response:
        text = response.read().decode()
    by_target: dict[str, float] = {}
    by_reason: dict[str, float] = {}
    for line in text.splitlines():
        found = _READS.match(line)
        if found:
            reason, target, value = found.groups()
            kind = "primary" if target == "primary" else "replica"
            by_target[kind] = by_target.get(kind, 0) + float(value)
            by_reason[f"{kind}/{reason}"] = by_reason.get(f"{kind}/{reason}", 0) + float(value)
    total = sum(by_target.values()) or 1.0
    return {"reads": by_target, "by_reason": by_reason,
            "replica_share": round(by_target.get("replica", 0) / total, 3)}


def run_replica_profile(args: Any) -> dict[str, Any]:
    pair = ReplicaPair(apply_delay=args.replica_delay, prefix="azora-load-pair-")
    say(f"starting a private primary + replica (apply delay {args.replica_delay:g}s) ...")
    pair.start()
    try:
        pair.create_database(DATABASE)
        primary = pair.primary_url(DATABASE)
        with_replica = f"{primary}?replica={pair.replica_url(DATABASE)}"
        prepare(primary, lambda: pair.create_database(DATABASE), args.scale, args.seed)
        pair.wait_replayed(timeout=600)
        if args.prepare_only:
            return {"label": "replica", "locust_exit_code": 0}
        env = {"AZORA_LOAD_CONSISTENCY": "1"}
        phases: dict[str, dict[str, Any]] = {}
        for phase, url in (("primary-only", primary), ("with-replica", with_replica)):
            label = f"postgresql-{args.scale}-{phase}"
            before = snapshot(pair)

            def after_load(base: str, token: str, fixture: Path, phase: str = phase,
                           before: dict[str, Any] = before) -> dict[str, Any]:
                # While the server (and its database connections) still run.
                servers = difference(before, snapshot(pair))
                if phase == "primary-only":
                    return {"servers": servers}
                share = reads_share(base)
                users = json.loads(fixture.read_text())["users"]
                pair.set_apply_delay(2.0)
                time.sleep(0.5)  # the reload takes effect
                try:
                    found = probe(base, token, users, args.probe_writes)
                finally:
                    pair.set_apply_delay(args.replica_delay)
                return {"servers": servers, "reads_share": share, "stale_probe": found}

            result = serve_and_load(args, primary, label, env, serve_url=url,
                                    before_stop=after_load)
            report(result)
            phases[phase] = result
        summary = compare(phases)
        failed = any(r["locust_exit_code"] for r in phases.values()) or summary["stale_reads"]
        combined = {"label": f"postgresql-{args.scale}-replica", "phases": phases,
                    "summary": summary, "locust_exit_code": 1 if failed else 0}
        (DATA / f"result-replica-{args.scale}.json").write_text(json.dumps(combined, indent=2))
        return combined
    finally:
        pair.stop()


def compare(phases: dict[str, dict[str, Any]]) -> dict[str, Any]:
    alone, shared = phases["primary-only"], phases["with-replica"]
    say("\nreplica profile: primary-only vs with-replica, same run")
    say(f"{'route':<36} {'p95 alone':>9} {'p95 w/ replica':>14} {'req/s alone':>11} "
        f"{'req/s w/':>8}")
    for name in alone["routes"]:
        a, b = alone["routes"][name], shared["routes"].get(name, {})
        say(f"{name:<36} {a['p95']:>9.0f} {b.get('p95', 0):>14.0f} {a['rps']:>11} "
            f"{b.get('rps', 0):>8}")
    stale = shared["routes"].get("GET /api/jobs/{id} after write", {}).get("failures", 0)
    stale += alone["routes"].get("GET /api/jobs/{id} after write", {}).get("failures", 0)
    share = shared["reads_share"]
    p_alone, p_shared = alone["servers"]["primary"], shared["servers"]["primary"]
    r_shared = shared["servers"]["replica"]
    say(f"reads on the replica: {share['replica_share']:.1%} ({share['reads']}); by reason "
        f"{share['by_reason']}")
    say(f"primary: {p_alone['transactions_per_s']} -> {p_shared['transactions_per_s']} "
        f"transactions/s, {p_alone['rows_returned']:,.0f} -> {p_shared['rows_returned']:,.0f} "
        f"rows returned, CPU {p_alone['cpu_percent']}% -> {p_shared['cpu_percent']}%; "
        f"replica {r_shared['transactions_per_s']} transactions/s, CPU "
        f"{r_shared['cpu_percent']}%")
    found = shared["stale_probe"]
    say(f"stale reads in the workload (token): {stale}; probe ({found['writes']} writes, "
        f"apply delay 2s): stale with token {found['stale_with_token']}, without "
        f"{found['stale_without_token']}")
    return {"stale_reads": stale, "replica_share": share["replica_share"],
            "probe": found,
            "p95": {name: (alone["routes"][name]["p95"],
                           shared["routes"].get(name, {}).get("p95"))
                    for name in alone["routes"]}}
