"""Backend plugins, found by URL scheme.

Backends register through the entry-point group ``azora_store.backends``
(name = URL scheme, value = ``module:BackendClass``); the built-in ``sqlite``
and ``postgresql`` backends register there too. ``register()`` adds one at run
time (handy in tests or for a backend that is not a package). Entry points are
only imported when their scheme is asked for, so a missing optional driver
never breaks ``import azora_store``.
"""

from __future__ import annotations

import os
from importlib import import_module
from importlib.metadata import entry_points

from ..errors import ConfigurationError
from .base import Backend, DatabaseURL

ENTRY_POINT_GROUP = "azora_store.backends"
DEFAULT_URL = "sqlite:///azora.db"
URL_ENV = "AZORA_DATABASE_URL"

# Used when the package runs from a source tree that was never pip-installed
# (no entry-point metadata). Installed copies find the same names as entry points.
_BUILT_IN = {
    "sqlite": "azora_store.backends.sqlite:SqliteBackend",
    "postgresql": "azora_store.backends.postgres:PostgresBackend",
    "postgres": "azora_store.backends.postgres:PostgresBackend",
}
_registered: dict[str, type[Backend] | str] = {}


def register(scheme: str, backend: type[Backend] | str) -> None:
    """Make ``scheme://`` URLs open with ``backend`` (a class or 'module:Class')."""
    _registered[scheme.lower()] = backend


def _discovered() -> dict[str, type[Backend] | str]:
    found: dict[str, type[Backend] | str] = dict(_BUILT_IN)
    for entry in entry_points(group=ENTRY_POINT_GROUP):
        found[entry.name.lower()] = entry.value
    found.update(_registered)
    return found


def available_schemes() -> list[str]:
    return sorted(_discovered())


def backend_class(scheme: str) -> type[Backend]:
    """The backend class for a URL scheme, importing its plugin on first use."""
    target = _discovered().get(scheme.lower())
    if target is None:
        raise ConfigurationError(
            f"no backend for URL scheme {scheme!r}: known schemes are "
            f"{', '.join(available_schemes())} (a plugin adds more through the "
            f"'{ENTRY_POINT_GROUP}' entry-point group)")
    if isinstance(target, str):
        module_name, _, attribute = target.partition(":")
        try:
            target = getattr(import_module(module_name), attribute)
        except (ImportError, AttributeError) as exc:
            raise ConfigurationError(
                f"the backend plugin for {scheme!r} ({module_name}:{attribute}) failed to "
                f"load: {exc}") from exc
    if not (isinstance(target, type) and issubclass(target, Backend)):
        raise ConfigurationError(f"the backend plugin for {scheme!r} is not a Backend subclass")
    return target


def resolve_url(url: str | None = None) -> str:
    """The URL given, else $AZORA_DATABASE_URL, else the SQLite default."""
    return url or os.environ.get(URL_ENV) or DEFAULT_URL


def open_backend(url: str | None = None) -> Backend:
    parsed = DatabaseURL.parse(resolve_url(url))
    cls = backend_class(parsed.scheme)
    if not cls.supports_replicas:
        from ..replicas.options import is_replica_option

        named = sorted(name for name in parsed.options if is_replica_option(name))
        if named:
            raise ConfigurationError(
                f"option {', '.join(named)} in {parsed.redacted()}: the {cls.name} backend "
                "has no streaming replicas (replicas are a PostgreSQL option: "
                "postgresql://host/db?replica=postgresql://host2/db)")
    return cls(parsed)


__all__ = ["DEFAULT_URL", "ENTRY_POINT_GROUP", "URL_ENV", "Backend", "DatabaseURL",
           "available_schemes", "backend_class", "open_backend", "register", "resolve_url"]
