"""A private PostgreSQL streaming pair (primary + hot standby) for tests and load runs.

Built with the PostgreSQL binaries on this machine, in a temporary directory, on
free ports; the shared server (5432) is never touched:

- ``initdb -A trust`` (its default pg_hba allows local replication), started on
  127.0.0.1 with a socket directory of its own;
- ``pg_basebackup -R -X stream --checkpoint=fast`` into the replica's directory,
  ``recovery_min_apply_delay`` appended (``apply_delay``: makes lag visible),
  started on another port.

The binaries refuse to run as root, so as root every command runs as the
``postgres`` user (``runuser``) and the directory belongs to it.

    with ReplicaPair(apply_delay=2.0) as pair:
        pair.create_database("h17")
        primary, replica = pair.primary_url("h17"), pair.replica_url("h17")

    python tests/replica_pair.py --apply-delay 0.5   # start one, print its URLs, wait
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

BIN = Path(os.environ.get("AZORA_PG_BIN", "/usr/lib/postgresql/15/bin"))
OS_USER = "postgres"


class PairError(RuntimeError):
    """The pair could not be created or changed (the message says which step)."""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class ReplicaPair:
    """A primary and one streaming replica; ``start()`` builds both, ``stop()``
    removes everything."""

    def __init__(self, apply_delay: float = 0.0, prefix: str = "azora-pair-"):
        self.apply_delay = apply_delay
        self.prefix = prefix
        self.root: Path | None = None
        self.primary_port = 0
        self.replica_port = 0

    # -- paths and URLs ------------------------------------------------------------------

    @property
    def primary_dir(self) -> Path:
        assert self.root is not None
        return self.root / "primary"

    @property
    def replica_dir(self) -> Path:
        assert self.root is not None
        return self.root / "replica"

    def primary_url(self, database: str = "postgres") -> str:
        return f"postgresql://postgres@127.0.0.1:{self.primary_port}/{database}"

    def replica_url(self, database: str = "postgres") -> str:
        return f"postgresql://postgres@127.0.0.1:{self.replica_port}/{database}"

    # -- running the binaries ------------------------------------------------------------

    def _run(self, *argv: str, timeout: float = 60.0) -> str:
        command = [str(BIN / argv[0]), *argv[1:]]
        if os.geteuid() == 0:
            command = ["runuser", "-u", OS_USER, "--", *command]
        try:
            done = subprocess.run(command, capture_output=True, text=True, timeout=timeout,
                                  cwd="/tmp", check=False)
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise PairError(f"{argv[0]} failed: {exc}") from exc
        if done.returncode != 0:
            raise PairError(f"{' '.join(argv)} exited with {done.returncode}: "
                            f"{(done.stderr or done.stdout).strip()[-800:]}")
        return done.stdout

    def _pg_ctl_start(self, directory: Path, port: int) -> None:
        options = (f"-p {port} -k {self.root} -c listen_addresses=127.0.0.1 -c fsync=off "
                   "-c full_page_writes=off -c max_wal_senders=4 -c wal_keep_size=256MB "
                   "-c shared_buffers=32MB -c max_connections=60")
        self._run("pg_ctl", "-D", str(directory), "-o", options, "-l",
                  str(directory / "server.log"), "-w", "-t", "60", "start")

    def _wait_ready(self, port: int, timeout: float = 30.0) -> None:
        import psycopg

        deadline = time.monotonic() + timeout
        while True:
            try:
                with psycopg.connect(host="127.0.0.1", port=port, user="postgres",
                                     dbname="postgres", connect_timeout=2):
                    return
            except psycopg.Error as exc:
                if time.monotonic() > deadline:
                    raise PairError(f"the server on port {port} did not accept "
                                    f"connections: {exc}") from exc
                time.sleep(0.1)

    # -- life cycle ----------------------------------------------------------------------

    def start(self) -> ReplicaPair:
        if not (BIN / "initdb").exists():
            raise PairError(f"no PostgreSQL binaries in {BIN} (set AZORA_PG_BIN)")
        self.root = Path(tempfile.mkdtemp(prefix=self.prefix, dir="/tmp"))
        if os.geteuid() == 0:
            shutil.chown(self.root, OS_USER, OS_USER)
        try:
            self.primary_port = free_port()
            self._run("initdb", "-A", "trust", "-U", "postgres", "--no-sync", "-D",
                      str(self.primary_dir))
            self._pg_ctl_start(self.primary_dir, self.primary_port)
            self._wait_ready(self.primary_port)
            self.replica_port = free_port()
            self._make_replica()
        except BaseException:
            self.stop()
            raise
        return self

    def _make_replica(self) -> None:
        self._run("pg_basebackup", "-R", "-X", "stream", "--checkpoint=fast", "--no-sync",
                  "-D", str(self.replica_dir), "-h", "127.0.0.1", "-p",
                  str(self.primary_port), "-U", "postgres")
        with open(self.replica_dir / "postgresql.auto.conf", "a") as conf:
            conf.write(f"\nrecovery_min_apply_delay = '{int(self.apply_delay * 1000)}ms'\n")
        self.start_replica()

    def rebuild_replica(self) -> None:
        """A fresh replica of the primary on the same port (after a promotion)."""
        if (self.replica_dir / "postmaster.pid").exists():
            self.stop_replica()
        shutil.rmtree(self.replica_dir)
        self._make_replica()

    def start_replica(self) -> None:
        self._pg_ctl_start(self.replica_dir, self.replica_port)
        self._wait_ready(self.replica_port)

    def stop_replica(self, mode: str = "immediate") -> None:
        self._run("pg_ctl", "-D", str(self.replica_dir), "-m", mode, "-w", "stop")

    def promote_replica(self) -> None:
        """The replica leaves recovery and takes writes: a second primary."""
        self._run("pg_ctl", "-D", str(self.replica_dir), "-w", "promote")

    def set_apply_delay(self, seconds: float) -> None:
        """Change ``recovery_min_apply_delay`` on the running replica (a reload)."""
        self.apply_delay = seconds
        with self.connect(replica=True) as conn:
            conn.execute(f"ALTER SYSTEM SET recovery_min_apply_delay = '{int(seconds * 1000)}ms'")
            conn.execute("SELECT pg_reload_conf()")

    def stop(self) -> None:
        if self.root is None:
            return
        for directory in (self.replica_dir, self.primary_dir):
            if (directory / "postmaster.pid").exists():
                with contextlib.suppress(PairError):
                    self._run("pg_ctl", "-D", str(directory), "-m", "immediate", "-w", "stop")
        shutil.rmtree(self.root, ignore_errors=True)
        self.root = None

    def __enter__(self) -> ReplicaPair:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- data ----------------------------------------------------------------------------

    def connect(self, database: str = "postgres", replica: bool = False) -> Any:
        import psycopg

        return psycopg.connect(host="127.0.0.1", user="postgres", dbname=database,
                               port=self.replica_port if replica else self.primary_port,
                               autocommit=True, connect_timeout=5)

    def create_database(self, name: str, template: str | None = None) -> None:
        """Create ``name`` on the primary and wait until the replica has it."""
        with self.connect() as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            conn.execute(f'CREATE DATABASE "{name}"' + (f' TEMPLATE "{template}"'
                                                         if template else ""))
        self.wait_replayed(timeout=30 + 2 * self.apply_delay)

    def wait_replayed(self, timeout: float = 30.0) -> None:
        """Wait until the replica has replayed everything the primary wrote so far."""
        with self.connect() as primary:
            target = primary.execute("SELECT pg_current_wal_insert_lsn()").fetchone()[0]
        deadline = time.monotonic() + timeout
        with self.connect(replica=True) as replica:
            while not replica.execute("SELECT pg_last_wal_replay_lsn() >= %s::pg_lsn",
                                      (str(target),)).fetchone()[0]:
                if time.monotonic() > deadline:
                    raise PairError(f"the replica did not replay up to {target} "
                                    f"in {timeout:g}s")
                time.sleep(0.02)


if __name__ == "__main__":  # pragma: no cover - a manual tool
    import argparse
    import signal

    parser = argparse.ArgumentParser(description="Start a primary + replica pair until ^C.")
    parser.add_argument("--apply-delay", type=float, default=0.0)
    parser.add_argument("--database", default="azora")
    args = parser.parse_args()
    with ReplicaPair(args.apply_delay) as pair:
        pair.create_database(args.database)
        print(pair.primary_url(args.database), pair.replica_url(args.database), flush=True)
        signal.sigwait({signal.SIGINT, signal.SIGTERM})
