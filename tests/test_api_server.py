"""``azora-store serve`` as a real process: it starts, answers, counts requests
across its workers and stops cleanly on SIGTERM."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from typing import Any

import pytest
from click.testing import CliRunner

from azora_store import open_store
from azora_store.api.auth import Tokens
from azora_store.cli import cli


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _get(url: str, token: str | None = None) -> tuple[int, bytes]:
    request = urllib.request.Request(url)
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


def _wait_until_up(base: str, server: subprocess.Popen[Any], timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert server.poll() is None, server.communicate()[1]
        try:
            if _get(f"{base}/healthz")[0] == 200:
                return
        except OSError:
            pass
        time.sleep(0.1)
    raise AssertionError("the server did not come up")


@pytest.mark.slow
def test_serve_answers_and_stops_on_sigterm(db_url: str) -> None:
    with open_store(db_url) as store:
        token = Tokens(store).create("smoke", ["read"])[1]
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    server = subprocess.Popen(
        [sys.executable, "-m", "azora_store", "serve", "--db", db_url, "--port", str(port),
         "--workers", "2", "--threads", "2"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=dict(os.environ))
    try:
        _wait_until_up(base, server)
        status, body = _get(f"{base}/api/sync/status", token)
        assert status == 200 and "counts" in json.loads(body)
        assert _get(f"{base}/api/sync/status")[0] == 401
        for _ in range(6):
            assert _get(f"{base}/api/jobs?limit=1", token)[0] == 200
        status, metrics = _get(f"{base}/metrics")
        assert status == 200
        # Multiprocess mode: the sum over both workers, whichever one answers.
        assert ('azora_http_requests_total{method="GET",route="GET /api/jobs",status="200"} 6.0'
                in metrics.decode())
    finally:
        server.send_signal(signal.SIGTERM)
        _, err = server.communicate(timeout=30)
    assert server.returncode == 0, err
    assert "Shutting down" in err


def test_serve_refuses_a_database_with_pending_migrations(empty_url: str) -> None:
    result = CliRunner().invoke(cli, ["serve", "--db", empty_url, "--port", str(_free_port())])
    assert result.exit_code == 1 and "pending migration" in result.output
