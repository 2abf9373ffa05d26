"""Optional extras: what each one brings, and one error for a missing one.

``pip install azora_store`` gives the library and every command that only needs
SQLite; the rest comes in extras (``pyproject.toml``). A command or a backend
that needs one calls ``require`` (import it now) or ``check`` (make sure it can
be imported later, e.g. in a worker process), and a missing module becomes a
``ConfigurationError`` naming the extra to install: one line on the command
line (exit status 2), never a traceback.
"""

from __future__ import annotations

import importlib
import importlib.util
from types import ModuleType

from ..errors import ConfigurationError

#: Importable module -> the extra that installs it.
EXTRAS: dict[str, str] = {
    "psycopg": "pg",
    "falcon": "server",
    "gunicorn": "server",
    "prometheus_client": "server",
    "numpy": "seed",
    "nats": "nats",
    "aio_pika": "rabbitmq",
    "matplotlib": "plots",
    "playwright": "browser",
    "pytest": "bench",
    "pytest_benchmark": "bench",
}


def missing_extra(module: str, needed_by: str, extra: str | None = None,
                  detail: str = "") -> ConfigurationError:
    """The error for ``needed_by`` (e.g. "azora-store serve") lacking ``module``."""
    extra = extra or EXTRAS[module]
    why = f" ({detail})" if detail else ""
    return ConfigurationError(f"{needed_by} needs {module}, which is not installed{why}: "
                              f"pip install 'azora_store[{extra}]'")


def require(module: str, needed_by: str) -> ModuleType:
    """Import ``module``, or raise the error naming the extra that provides it."""
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        top = module.partition(".")[0]
        # A module that is there but fails to import something of its own is
        # named too: reinstalling the extra is the fix either way.
        detail = "" if exc.name in (module, top) else str(exc)
        raise missing_extra(module, needed_by, EXTRAS.get(top), detail) from None


def check(modules: tuple[str, ...], needed_by: str, extra: str | None = None) -> None:
    """Make sure every one of ``modules`` can be imported, without importing
    them (a server imports some of them only after setting things up).
    ``extra`` names the extra that installs them all (else each module's own)."""
    for module in modules:
        try:
            found = importlib.util.find_spec(module) is not None
        except (ImportError, ValueError):  # a parent package missing, or a blocked entry
            found = False
        if not found:
            raise missing_extra(module, needed_by,
                                extra or EXTRAS.get(module.partition(".")[0]))


__all__ = ["EXTRAS", "check", "missing_extra", "require"]
