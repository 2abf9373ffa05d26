"""A store with dead letters, delayed retries and throughput, served over real
HTTP in a thread: what the dashboard tests (and the screenshot script) look at."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from socketserver import ThreadingMixIn
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from azora_store.api.app import create_app
from azora_store.api.auth import Tokens
from azora_store.support.clock import utcnow
from azora_store.sync import Router, Worker, WorkerConfig, register_handler

FAILURES = [("search", "HTTP 500 from search: upstream returned <html>"),
            ("billing", "timeout after 5s talking to billing"),
            ("search", "HTTP 503: 100% busy"),
            ("billing", "Timeout: upstream_gone"),
            ("mail", "mailbox full"),
            ("search", "HTTP 500 from search: upstream returned <html>")]


class Refuser:
    """Fails every event with the error text its payload names."""

    name = "refuser"
    transactional = False

    def __call__(self, event, store) -> None:
        raise RuntimeError(event.payload["error"])


@dataclass
class World:
    store: object
    failed: list[int]  # ids, oldest first
    delayed: int  # a PENDING event waiting for its backoff
    operator: str  # token with read + operator
    reader: str  # read only


def build(store, copies: int = 1) -> World:
    """Dead letters (FAILURES times copies), completed events, one blocked key, one
    delayed retry, and the tokens."""
    specs = FAILURES * copies
    failed = [store.sync.enqueue(service, "Job", n, "UPDATE", {"error": error},
                                 max_attempts=1).id
              for n, (service, error) in enumerate(specs)]
    for n in range(40):
        store.sync.enqueue("analytics", "Job", 100_000 + n, "UPDATE", {})
    register_handler("refuser", lambda argument: Refuser())
    register_handler("noop-ok", lambda argument: _Ok())
    worker = Worker(store, Router({"analytics": "noop-ok", "*": "refuser"}),
                    WorkerConfig(backoff_base=0.01))
    while worker.run_once():
        pass
    # A later event of the first failed key: the next claim marks it blocked
    # behind its dead head.
    store.sync.enqueue("search", "Job", 0, "UPDATE", {"error": "never tried"}, max_attempts=1)
    worker.run_once()
    minute = utcnow() - timedelta(minutes=60)
    for n in range(1, 60):  # a recorded hour of throughput, as workers would leave it
        store.sync.throughput.add((n * 37) % 90 + 10, at=minute + timedelta(minutes=n))
    delayed = store.sync.enqueue("search", "Job", 5000, "UPDATE", {}, delay=3600).id
    tokens = Tokens(store)
    operator = tokens.create("ops-on-call", ["read", "operator"])[1]
    reader = tokens.create("read-only", ["read"])[1]
    return World(store, failed, delayed, operator, reader)


class _Ok:
    name = "noop-ok"
    transactional = False

    def __call__(self, event, store) -> None:
        return None


class _Server(ThreadingMixIn, WSGIServer):
    daemon_threads = True


class _Quiet(WSGIRequestHandler):
    def log_message(self, *args) -> None:
        pass


@contextmanager
def serving(store) -> Iterator[str]:
    """The API (and dashboard) over ``store`` at a free loopback port."""
    app = create_app(lambda: store, auth_cache_seconds=0)
    server = make_server("127.0.0.1", 0, app, server_class=_Server, handler_class=_Quiet)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
