"""azora_store: the storage engine of the Azora marketplace.

    from azora_store import open_store
    store = open_store("sqlite:///azora.db")   # or postgresql://user@host/db
    store.migrate()

Importing this package is cheap and loads no database driver: the names
below are resolved on first use.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .errors import (
    AzoraError,
    ConfigurationError,
    Conflict,
    DatabaseBusy,
    DatabaseError,
    DatabaseUnavailable,
    Forbidden,
    InsufficientFunds,
    InvalidTransition,
    NotFound,
    SchemaOutOfDate,
    ValidationError,
)

__version__ = "0.1.0"

_LAZY = {"open_store": ".store", "Store": ".store"}

if TYPE_CHECKING:  # pragma: no cover
    from .store import Store, open_store


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'azora_store' has no attribute {name!r}")
    from importlib import import_module

    return getattr(import_module(module, __name__), name)


__all__ = [
    "AzoraError", "ConfigurationError", "Conflict", "DatabaseBusy", "DatabaseError",
    "DatabaseUnavailable", "Forbidden", "InsufficientFunds", "InvalidTransition", "NotFound",
    "SchemaOutOfDate", "Store", "ValidationError", "__version__", "open_store",
]
