"""The HTTP API (falcon, WSGI) served by ``azora-store serve``.

    from azora_store.api import create_app
    app = create_app(lambda: open_store(url))   # any WSGI server

Importing this package loads nothing heavy: falcon and prometheus_client are
imported with ``create_app`` (the server sets up metrics before that).
"""

from __future__ import annotations

from typing import Any

#: Set by ``azora-store serve`` before any worker imports prometheus_client.
MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"


def __getattr__(name: str) -> Any:
    if name == "create_app":
        from .app import create_app

        return create_app
    raise AttributeError(f"module 'azora_store.api' has no attribute {name!r}")


__all__ = ["MULTIPROC_ENV", "create_app"]
