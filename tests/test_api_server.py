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
    CliRunner().invoke(cli, ["migrate", "up", "--to", "0001_initial", "--db", empty_url])
    result = CliRunner().invoke(cli, ["serve", "--db", empty_url, "--port", str(_free_port())])
    assert result.exit_code == 1 and "pending migration" in result.output


def _raw(port: int, request: bytes) -> tuple[int, dict[str, str], bytes]:
    """Send bytes as they are (no client library would send these) and read the
    whole answer: (status, headers, body)."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(request)
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
    head, _, body = answer.partition(b"\r\n\r\n")
    status_line, *header_lines = head.decode("latin-1").split("\r\n")
    headers = {k.strip().lower(): v.strip() for k, _, v in
               (line.partition(":") for line in header_lines)}
    return int(status_line.split()[1]), headers, body


def _get_raw(target: bytes, extra_headers: bytes = b"") -> bytes:
    return (b"GET " + target + b" HTTP/1.1\r\nHost: x\r\n" + extra_headers +
            b"Connection: close\r\n\r\n")


@pytest.mark.slow
def test_requests_the_http_server_refuses_are_answered_in_json(tmp_path) -> None:
    """gunicorn refuses these before the app sees them; the answer is still the
    API's JSON error, and a long (but not too long) query reaches the app.
    (The HTTP layer is the same whatever the database: SQLite only here.)"""
    url = f"sqlite:///{tmp_path / 'serve.db'}"
    with open_store(url) as store:
        store.migrate()
    port = _free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "azora_store", "serve", "--db", url, "--port", str(port),
         "--workers", "1"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        _wait_until_up(f"http://127.0.0.1:{port}", server)
        status, headers, body = _raw(port, _get_raw(b"/healthz?" + b"a" * 6000))
        assert (status, json.loads(body)) == (200, {"status": "ok"})  # over gunicorn's 4,094
        refused = {
            414: _get_raw(b"/healthz?" + b"a" * 9000),
            431: _get_raw(b"/healthz", b"".join(b"X-%d: y\r\n" % n for n in range(101))),
            400: (b"POST /api/jobs HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                  b"Content-Length: abc\r\nConnection: close\r\n\r\n{}"),
        }
        for expected, request in refused.items():
            status, headers, body = _raw(port, request)
            assert status == expected, body
            assert headers["content-type"] == "application/json", (headers, body)
            assert int(headers["content-length"]) == len(body)
            error = json.loads(body)["error"]
            assert set(error) == {"code", "message"} and error["message"], error
        assert _raw(port, _get_raw(b"/healthz", b"X-Big: " + b"y" * 9000 + b"\r\n"))[0] == 431
    finally:
        server.send_signal(signal.SIGTERM)
        server.communicate(timeout=30)
