"""``azora-store serve``: the API under gunicorn.

- The master process opens no database connection and no pool: each worker
  opens its own store in gunicorn's ``post_fork`` hook (a forked connection or
  pool would be shared by two processes), warms it up, and closes it when it
  exits.
- Worker class ``gthread`` (HTTP keep-alive), by default two processes per core
  with one thread each: measured with the mixed workload, threads in one
  process only slowed writes down (a write transaction waits for the GIL
  between its statements while holding the database's write lock) and cost
  more CPU per request, for the same throughput. With ``--threads`` above one,
  threads share the worker's store and each keeps its own connection (on
  Postgres from the worker's pool, when every thread fits in it; otherwise
  connections go back after each request).
- Metrics: prometheus_client multiprocess mode in a fresh directory per run,
  so ``/metrics`` sums every worker (see ``metrics.py``).
"""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from gunicorn.app.base import BaseApplication

from ..errors import AzoraError
from . import MULTIPROC_ENV
from .workers import worker_class

if TYPE_CHECKING:
    from ..store import Store

#: gunicorn's largest ``limit_request_line`` (bytes of "GET /path?query HTTP/1.1").
MAX_REQUEST_LINE = 8190

log = logging.getLogger("azora_store.api")


@dataclass
class ServeOptions:
    host: str = "127.0.0.1"
    port: int = 4000
    workers: int = 2
    threads: int = 1
    worker_class: str = "gthread"
    keepalive: int = 5
    timeout: int = 30
    graceful_timeout: int = 10
    access_log: bool = False
    log_level: str = "info"


class StoreHolder:
    """Opens the worker's store once, after fork; ``create_app`` calls it."""

    def __init__(self, url: str):
        self.url = url
        self.store: Store | None = None

    def open(self) -> Store:
        if self.store is None:
            from ..store import open_store

            self.store = open_store(self.url, create=False)
            self._warm_up()
        return self.store

    __call__ = open

    def _warm_up(self) -> None:
        """Fill caches (search plan numbers, SQLite pages) before the first request."""
        try:
            self.store.queries.search_jobs(skills=["python"], limit=1)
            self.store.queries.search_jobs(limit=1)
        except AzoraError as exc:
            log.warning("warm-up query failed: %s", exc)
        finally:
            self.store.db.close()  # request threads open their own connections

    def close(self) -> None:
        if self.store is not None:
            self.store.close()
            self.store = None


class Server(BaseApplication):
    def __init__(self, url: str, options: ServeOptions):
        self.url = url
        self.options = options
        self.holder = StoreHolder(url)
        self.metrics_dir: str | None = None
        super().__init__()

    def load_config(self) -> None:
        o = self.options
        settings = {
            "bind": [f"[{o.host}]:{o.port}" if ":" in o.host else f"{o.host}:{o.port}"],
            "workers": o.workers, "worker_class": worker_class(o.worker_class, o.threads),
            "threads": o.threads,
            # gunicorn's maximum (default 4,094): longer searches reach the app.
            # What gunicorn still refuses itself it answers in JSON (workers.py).
            "limit_request_line": MAX_REQUEST_LINE,
            "keepalive": o.keepalive, "timeout": o.timeout,
            "graceful_timeout": o.graceful_timeout, "loglevel": o.log_level,
            "accesslog": "-" if o.access_log else None, "errorlog": "-",
            "proc_name": "azora-store", "preload_app": False, "control_socket_disable": True,
            # Each worker touches its heartbeat file on every loop: keep it in memory.
            "worker_tmp_dir": "/dev/shm" if os.path.isdir("/dev/shm") else None,
            "post_fork": self._post_fork, "worker_exit": self._worker_exit,
            "child_exit": self._child_exit,
        }
        for name, value in settings.items():
            self.cfg.set(name, value)

    def load(self) -> Any:
        from .app import create_app

        # Runs in the worker, after post_fork opened the store. Threads keep their
        # pooled connection when they all fit in the pool.
        pool_size = getattr(self.holder.open().backend, "pool_size", None)
        hold = pool_size is not None and self.options.threads <= pool_size
        return create_app(self.holder, release_connections=not hold)

    # -- hooks (run in the worker, or in the master for child_exit) ----------------------

    def _post_fork(self, server: Any, worker: Any) -> None:
        self.holder.open()

    def _worker_exit(self, server: Any, worker: Any) -> None:
        self.holder.close()

    def _child_exit(self, server: Any, worker: Any) -> None:
        if self.metrics_dir:
            from prometheus_client import multiprocess

            multiprocess.mark_process_dead(worker.pid, self.metrics_dir)

    # -- running -------------------------------------------------------------------------

    def serve(self) -> None:
        """Run until SIGTERM/SIGINT (gunicorn finishes requests in flight first)."""
        self.metrics_dir = tempfile.mkdtemp(prefix="azora-metrics-")
        os.environ[MULTIPROC_ENV] = self.metrics_dir
        try:
            self.run()
        finally:
            shutil.rmtree(self.metrics_dir, ignore_errors=True)
