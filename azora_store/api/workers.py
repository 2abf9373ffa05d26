"""gunicorn workers whose own error answers are JSON in the API's error shape.

gunicorn refuses some requests before the app sees them: a request line over
``limit_request_line`` (414), too many or too large headers (431), a malformed
request line, header or Content-Length (400). It answers those with an HTML
page; these workers answer the same status with
``{"error": {"code", "message"}}`` instead, so every answer of ``serve`` is
JSON. gunicorn still decides the status, logs the request and closes the
connection: only the body changes.

Imported by the gunicorn master (it loads the worker class), so nothing here
imports falcon or prometheus_client at module level.
"""

from __future__ import annotations

import html
import re
from typing import Any

from gunicorn import util
from gunicorn.workers.gthread import ThreadWorker
from gunicorn.workers.sync import SyncWorker

_HTML_ERROR = re.compile(rb"^HTTP/1\.[01] (\d{3}) ([^\r\n]*)\r\n.*?<h1><p>.*?</p></h1>\s*(.*?)\s*"
                         rb"</body>", re.DOTALL)


class _Recorder:
    """Stands in for the client socket while gunicorn writes its error page."""

    def __init__(self, sock: Any):
        self._sock = sock
        self.written = b""

    def sendall(self, data: bytes) -> None:
        self.written += data

    def __getattr__(self, name: str) -> Any:  # timeouts, blocking mode, addresses
        return getattr(self._sock, name)


def json_error_response(page: bytes) -> bytes | None:
    """gunicorn's HTML error response rewritten as the API's JSON error
    (None if ``page`` is not one: it is then sent as it is)."""
    from .app import HTTP_CODES, error_body

    found = _HTML_ERROR.match(page)
    if found is None:
        return None
    status, reason = int(found.group(1)), found.group(2).decode("latin-1")
    detail = html.unescape(found.group(3).decode("latin-1")).strip()
    body = error_body(HTTP_CODES.get(status, "bad_request" if status < 500 else "internal"),
                      f"{reason}: {detail}" if detail else reason)
    head = (f"HTTP/1.1 {status} {reason}\r\nConnection: close\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n")
    return head.encode("latin-1") + body


class JsonErrors:
    """Mixin for a gunicorn worker class: its error pages become JSON."""

    def handle_error(self, req: Any, client: Any, addr: Any, exc: BaseException) -> None:
        recorder = _Recorder(client)
        super().handle_error(req, recorder, addr, exc)  # type: ignore[misc]
        if not recorder.written:
            return
        answer = json_error_response(recorder.written) or recorder.written
        try:
            util.write_nonblock(client, answer)
        except Exception:  # the client went away, as gunicorn's own write tolerates
            self.log.debug("Failed to send error message.")  # type: ignore[attr-defined]


class JsonThreadWorker(JsonErrors, ThreadWorker):
    """gunicorn's ``gthread`` worker with JSON error answers."""


class JsonSyncWorker(JsonErrors, SyncWorker):
    """gunicorn's ``sync`` worker with JSON error answers."""


def worker_class(name: str, threads: int) -> type:
    """The worker class for ``--worker-class``; ``sync`` with threads is
    ``gthread``, as gunicorn itself decides."""
    return JsonSyncWorker if name == "sync" and threads == 1 else JsonThreadWorker


__all__ = ["JsonSyncWorker", "JsonThreadWorker", "json_error_response", "worker_class"]
