"""Run the Locust suite against a real ``azora-store serve`` (``make load``/``make soak``).

For each backend: seed (or reuse) a database at the scale, create a token, draw
the Locust fixture from the data, start the server, run a bounded headless
Locust, stop the server; report req/s, per-route percentiles, failures, the
server's CPU (all its processes) and RSS. Locust's HTML report and a
latency-over-time plot (``locust-<label>.html``, ``locust-<label>-latency.png``,
the plot with the plots extra) land in .benchmarks/load/. Exits non-zero if
Locust's threshold gate failed on any backend.

    python loadtests/run.py --backend sqlite --backend postgresql --scale small -t 30s
    python loadtests/run.py --backend sqlite --scale medium -t 60s --users 24
    python loadtests/run.py --backend sqlite --scale small -t 10m --profile soak

Seeded databases live in .benchmarks/load/ (SQLite) and in the Postgres database
``azora_load_<scale>_<seed>`` on $AZORA_TEST_PG_URL's server, and are reused while
their user count matches the scale (load runs add jobs and applications).
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import random
import resource
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / ".benchmarks" / "load"
BIN = Path(sys.executable).parent
PG_URL = os.environ.get("AZORA_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/test")
TICKS = os.sysconf("SC_CLK_TCK")
SAMPLE = {"jobs": 2_000, "users": 5_000, "kyc_users": 2_000}


def say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


# -- data -----------------------------------------------------------------------------------


def field_key() -> None:
    """Seeding encrypts KYC numbers: use $AZORA_FIELD_KEY, or a key kept next to the data."""
    if not os.environ.get("AZORA_FIELD_KEY"):
        from azora_store.crypto import generate_key

        key_file = DATA / "field.key"
        if not key_file.exists():
            key_file.write_text(generate_key())
        os.environ["AZORA_FIELD_KEY"] = key_file.read_text().strip()


def database_url(backend: str, scale: str, seed: int) -> tuple[str, Any]:
    """The URL of the load database and a function that empties it."""
    if backend == "sqlite":
        path = DATA / f"{scale}-{seed}.db"

        def recreate() -> None:
            for suffix in ("", "-wal", "-shm"):
                Path(f"{path}{suffix}").unlink(missing_ok=True)

        return f"sqlite:///{path}", recreate
    import psycopg

    name = f"azora_load_{scale}_{seed}"

    def recreate_pg() -> None:
        with psycopg.connect(PG_URL, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            admin.execute(f'CREATE DATABASE "{name}"')

    with psycopg.connect(PG_URL, autocommit=True) as admin:
        if not admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone():
            admin.execute(f'CREATE DATABASE "{name}"')
    return urlunsplit(urlsplit(PG_URL)._replace(path="/" + name)), recreate_pg


def prepare(url: str, recreate: Any, scale: str, seed: int) -> None:
    from azora_store import open_store
    from azora_store.seed import SCALES, Seeder

    with open_store(url) as store:
        store.migrate()
        users = store.db.execute_sql("SELECT COUNT(*) FROM users").fetchone()[0]
    if users == SCALES[scale].users:
        say(f"reusing {url} (scale {scale})")
        return
    say(f"seeding {url} at scale {scale} ...")
    recreate()
    started = time.monotonic()
    with open_store(url) as store:
        store.migrate()
        Seeder(store, scale, seed).run()
    say(f"seeded in {time.monotonic() - started:.0f}s")


def draw_fixture(url: str, path: Path) -> str:
    """Ids and values for Locust, drawn from the data; returns a fresh token."""
    from azora_store import open_store
    from azora_store.api.auth import Tokens

    rng = random.Random(7)
    with open_store(url) as store:
        def rows(query: str) -> list[tuple]:
            return list(store.db.execute_sql(query).fetchall())

        jobs = rows("SELECT id, title, budget_minor, currency FROM jobs "
                    "WHERE status = 'OPEN' AND deleted_at IS NULL")
        jobs = rng.sample(jobs, min(SAMPLE["jobs"], len(jobs)))
        skills: dict[int, list[str]] = {}
        for job_id, skill in rows("SELECT job_id, skill FROM job_skills WHERE "
                                  "open_created_at IS NOT NULL"):
            skills.setdefault(job_id, []).append(skill)
        users = [r[0] for r in rows("SELECT id FROM users WHERE deleted_at IS NULL")]
        kyc = [r[0] for r in rows("SELECT user_id FROM kyc_verifications")]
        popular = [r[0] for r in rows(
            "SELECT skill FROM job_skills WHERE open_created_at IS NOT NULL "
            "GROUP BY skill ORDER BY COUNT(*) DESC LIMIT 200")]
        fixture = {
            "jobs": [{"id": job_id, "budget_minor": budget, "currency": currency,
                      "skills": sorted(skills.get(job_id, [])),
                      "words": [w for w in title.lower().split() if len(w) > 3]}
                     for job_id, title, budget, currency in jobs],
            "users": rng.sample(users, min(SAMPLE["users"], len(users))),
            "kyc_users": rng.sample(kyc, min(SAMPLE["kyc_users"], len(kyc))),
            "skills": popular,
            "words": sorted({w for job in jobs for w in job[1].lower().split() if len(w) > 3}),
        }
        path.write_text(json.dumps(fixture))
        tokens = Tokens(store)
        for row in tokens.list():
            if row.name == "loadtest":
                tokens.revoke(row.id)
        return tokens.create("loadtest", ["read", "write", "compliance"])[1]


# -- the server's processes -------------------------------------------------------------------


def processes(master: int) -> list[int]:
    try:
        children = Path(f"/proc/{master}/task/{master}/children").read_text().split()
    except OSError:
        return []
    return [master, *map(int, children)]


def cpu_seconds(pids: list[int]) -> float:
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])  # utime + stime
    return total / TICKS


def rss_mib(pids: list[int], field: str = "VmRSS") -> dict[int, float]:
    """Resident memory per process. ``VmRSS`` counts the database pages SQLite
    maps (mmap_size) as they are touched; ``RssAnon`` is the heap alone."""
    sizes = {}
    for pid in pids:
        try:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith(field + ":"):
                    sizes[pid] = int(line.split()[1]) / 1024
        except OSError:
            pass
    return sizes


def server_latency(base: str) -> dict[str, float]:
    """Mean time inside the app per route (ms), from the server's own histogram."""
    with urllib.request.urlopen(f"{base}/metrics", timeout=10) as response:
        text = response.read().decode()
    sums: dict[str, float] = {}
    counts: dict[str, float] = {}
    for line in text.splitlines():
        for suffix, into in (("_sum", sums), ("_count", counts)):
            prefix = f"azora_http_request_duration_seconds{suffix}{{route=\""
            if line.startswith(prefix):
                route, _, value = line[len(prefix):].partition('"} ')
                into[route] = float(value)
    return {route: round(1e3 * sums[route] / counts[route], 2)
            for route in sums if counts.get(route)}


def database_pids(url: str) -> list[int]:
    """The database server processes serving ``url`` (their CPU is the server's
    too); none for an embedded database such as SQLite."""
    from azora_store import open_store

    with open_store(url) as store:
        return store.backend.server_pids()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for(base: str, server: subprocess.Popen[Any], timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"the server exited with {server.returncode}")
        try:
            with urllib.request.urlopen(f"{base}/healthz", timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.2)
    raise SystemExit("the server did not answer /healthz")


# -- one run --------------------------------------------------------------------------------


def run_one(args: argparse.Namespace, backend: str) -> dict[str, Any] | None:
    url, recreate = database_url(backend, args.scale, args.seed)
    prepare(url, recreate, args.scale, args.seed)
    if args.prepare_only:
        return None
    label = f"{backend}-{args.scale}"
    result = serve_and_load(args, url, label)
    report(result)
    return result


def serve_and_load(args: argparse.Namespace, url: str, label: str,
                   extra_env: dict[str, str] | None = None, serve_url: str | None = None,
                   before_stop: Any = None) -> dict[str, Any]:
    """Serve ``serve_url`` (default ``url``), run Locust against it, stop it.
    ``before_stop(base, bearer token, fixture path)`` runs while the server
    still answers; what it returns joins the result."""
    fixture = DATA / f"fixture-{label}.json"
    token = draw_fixture(url, fixture)
    port = args.port or free_port()
    base = f"http://127.0.0.1:{port}"
    log_path = DATA / f"serve-{label}.log"
    with open(log_path, "w") as server_log:
        server = subprocess.Popen(
            [str(BIN / "azora-store"), "serve", "--db", serve_url or url, "--port", str(port),
             "--worker-class", args.worker_class,
             *(["--workers", str(args.workers)] if args.workers else []),
             *(["--threads", str(args.threads)] if args.threads else [])],
            stdout=server_log, stderr=subprocess.STDOUT)
    try:
        wait_for(base, server)
        pids = processes(server.pid)
        rss_start, anon_start = rss_mib(pids), rss_mib(pids, "RssAnon")
        cpu_start, wall_start = cpu_seconds(pids), time.monotonic()
        samples: list[tuple[float, float]] = []
        stop = threading.Event()

        def sample_rss() -> None:
            while not stop.wait(args.sample_every):
                now = processes(server.pid)
                samples.append((time.monotonic() - wall_start, sum(rss_mib(now).values()),
                                sum(rss_mib(now, "RssAnon").values())))

        sampler = threading.Thread(target=sample_rss, daemon=True)
        sampler.start()
        prefix = DATA / f"locust-{label}"
        env = dict(os.environ, AZORA_LOAD_TOKEN=token, AZORA_LOAD_FIXTURE=str(fixture),
                   AZORA_LOAD_PROFILE=args.profile or args.scale,
                   AZORA_LOAD_RATE=str(args.rate), **(extra_env or {}))
        distributed = (["--processes", str(args.locust_workers)]
                       if args.locust_workers else [])
        say(f"[{label}] locust: {args.users} users"
            f"{f' on {args.locust_workers} worker processes' if distributed else ''}, "
            f"{args.duration}, server {len(pids) - 1} worker(s) {args.worker_class} on {base}")
        backends = database_pids(url)
        db_cpu_start = cpu_seconds(backends)
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        locust = subprocess.run(
            [str(BIN / "locust"), "-f", str(ROOT / "loadtests" / "locustfile.py"),
             "--headless", "-u", str(args.users), "-r", str(args.users), "-t", args.duration,
             "-H", base, "--only-summary", "--csv", str(prefix), "--csv-full-history",
             "--html", f"{prefix}.html", "--stop-timeout", "5",
             *distributed, *(["--exclude-tags", "write"] if args.reads_only else [])],
            env=env, check=False)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        locust_cpu = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
        db_cpu = cpu_seconds(backends) - db_cpu_start
        pids = processes(server.pid)
        cpu = cpu_seconds(pids) - cpu_start
        wall = time.monotonic() - wall_start
        rss_end, anon_end = rss_mib(pids), rss_mib(pids, "RssAnon")
        stop.set()
        inside = server_latency(base)
        extra = before_stop(base, token, fixture) if before_stop is not None else {}
    finally:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
    result = summarise(prefix, label, args)
    result.update(server_cpu_percent=round(100 * cpu / wall, 1), server_cpu_seconds=round(cpu, 1),
                  rss_start_mib=round(sum(rss_start.values()), 1),
                  rss_end_mib=round(sum(rss_end.values()), 1),
                  anon_start_mib=round(sum(anon_start.values()), 1),
                  anon_end_mib=round(sum(anon_end.values()), 1),
                  rss_samples_mib=[(round(t), round(m, 1), round(a, 1)) for t, m, a in samples],
                  server_mean_ms=inside, locust_cpu_seconds=round(locust_cpu, 1),
                  database_cpu_seconds=round(db_cpu, 1),
                  load_average=os.getloadavg(),
                  locust_workers=args.locust_workers, locust_exit_code=locust.returncode,
                  **extra)
    result.update(html_report=f"{prefix}.html", latency_plot=plot_timeline(prefix))
    (DATA / f"result-{label}.json").write_text(json.dumps(result, indent=2))
    return result


def plot_timeline(prefix: Path) -> str | None:
    """Latency over time from Locust's full history, beside its HTML report; None
    (and a note) without matplotlib (the plots extra) or without samples."""
    from azora_store.bench.plots import timeline_plot
    from azora_store.errors import ConfigurationError

    history = Path(f"{prefix}_stats_history.csv")
    if not history.exists():
        return None
    try:
        written = timeline_plot(history, f"{prefix}-latency.png")
    except ConfigurationError as exc:
        say(f"no latency plot: {exc}")
        return None
    if written is not None:
        say(f"wrote {written} and {prefix}.html")
    return str(written) if written else None


def summarise(prefix: Path, label: str, args: argparse.Namespace) -> dict[str, Any]:
    routes = {}
    with open(f"{prefix}_stats.csv", newline="") as handle:
        for row in csv.DictReader(handle):
            routes[row["Name"]] = {
                "requests": int(row["Request Count"]), "failures": int(row["Failure Count"]),
                "rps": round(float(row["Requests/s"]), 1),
                **{f"p{p}": float(row[f"{p}%"] or 0) for p in ("50", "95", "99")}}
    return {"label": label, "scale": args.scale, "users": args.users,
            "duration": args.duration, "workers": args.workers or "default",
            "threads": args.threads or "default",
            "worker_class": args.worker_class, "routes": routes}


def report(result: dict[str, Any]) -> None:
    total = result["routes"].get("Aggregated", {})
    cpu_per_request = 1e3 * result["server_cpu_seconds"] / max(total.get("requests", 0), 1)
    say(f"\n[{result['label']}] {total.get('rps', 0):.0f} req/s, "
        f"{total.get('failures', 0)} failures of {total.get('requests', 0)}; server CPU "
        f"{result['server_cpu_percent']}% ({result['server_cpu_seconds']} s, "
        f"{cpu_per_request:.2f} ms a request; Postgres backends "
        f"{result['database_cpu_seconds']} s; Locust {result['locust_cpu_seconds']} s), "
        f"load average {result['load_average'][0]:.1f}, RSS {result['rss_start_mib']} -> "
        f"{result['rss_end_mib']} MiB (heap {result['anon_start_mib']} -> "
        f"{result['anon_end_mib']} MiB)")
    say(f"{'route':<36} {'requests':>9} {'fail':>5} {'req/s':>7} {'p50':>5} {'p95':>5} "
        f"{'p99':>5} {'in app':>7}  (ms)")
    for name, r in result["routes"].items():
        inside = result["server_mean_ms"].get(name, "")
        say(f"{name:<36} {r['requests']:>9} {r['failures']:>5} {r['rps']:>7} "
            f"{r['p50']:>5.0f} {r['p95']:>5.0f} {r['p99']:>5.0f} {inside:>7}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--backend", action="append", choices=["sqlite", "postgresql"])
    parser.add_argument("--scale", default="small")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("-t", "--duration", default="30s")
    parser.add_argument("-u", "--users", type=int, default=16)
    parser.add_argument("--rate", type=float, default=0.0,
                        help="requests/s per user (0: closed loop, as fast as answered)")
    parser.add_argument("--workers", type=int, help="server processes (serve's default)")
    parser.add_argument("--locust-workers", type=int, default=0,
                        help="run Locust distributed: a master and this many worker "
                             "processes (the master gates); 0: one process")
    parser.add_argument("--replica", action="store_true",
                        help="the replica profile: a private primary + streaming replica, "
                             "the same workload primary-only then with the replica")
    parser.add_argument("--replica-delay", type=float, default=0.0,
                        help="the replica's recovery_min_apply_delay during the load (s)")
    parser.add_argument("--probe-writes", type=int, default=20,
                        help="writes of the stale-read probe (replica profile)")
    parser.add_argument("--threads", type=int, help="threads per process (serve's default)")
    parser.add_argument("--worker-class", default="gthread", choices=["gthread", "sync"])
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--profile", help="thresholds section (default: the scale)")
    parser.add_argument("--reads-only", action="store_true",
                        help="leave out the write tasks (the gate then reports them missing)")
    parser.add_argument("--prepare-only", action="store_true",
                        help="seed (or check) the databases and stop")
    parser.add_argument("--sample-every", type=float, default=30.0,
                        help="seconds between RSS samples")
    args = parser.parse_args()
    DATA.mkdir(parents=True, exist_ok=True)
    field_key()
    if args.replica:
        from replica_profile import run_replica_profile

        results = [run_replica_profile(args)]
    else:
        results = [run_one(args, backend) for backend in args.backend or ["sqlite"]]
    failed = [r["label"] for r in results if r is not None and r["locust_exit_code"] != 0]
    if failed:
        say(f"load gate FAILED on {', '.join(failed)}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
