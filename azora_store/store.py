"""``Store``: the database handle, its backend and the services built on it.

One store per process: opening a store binds the package's models to its
database, as a peewee application binds its models at start-up.
"""

from __future__ import annotations

from functools import cached_property
from typing import TYPE_CHECKING, Any

from .backends import open_backend
from .backends.base import Backend
from .migrations import Migrations, Report
from .models import ALL_MODELS

if TYPE_CHECKING:
    from .compliance import Compliance
    from .market import Market
    from .queries import Queries
    from .sync.outbox import Outbox


class Store:
    def __init__(self, backend: Backend):
        self.backend = backend
        self.db = backend.db
        self.db.bind(ALL_MODELS)

    @property
    def url(self) -> str:
        return self.backend.url.redacted()

    @property
    def migrations(self) -> Migrations:
        return Migrations(self.backend)

    @cached_property
    def sync(self) -> Outbox:
        """The transactional outbox (enqueue, status, retry, prune)."""
        from .sync.outbox import Outbox

        return Outbox(self)

    @cached_property
    def market(self) -> Market:
        """The marketplace workflows (users, jobs, escrow, disputes, ...)."""
        from .market import Market

        return Market(self)

    @cached_property
    def compliance(self) -> Compliance:
        """KYC, AML checks and the hash-chained security event log."""
        from .compliance import Compliance

        return Compliance(self)

    @cached_property
    def queries(self) -> Queries:
        """The four target queries (see azora_store.queries)."""
        from .queries import Queries

        return Queries(self)

    def migrate(self, report: Report | None = None) -> list[str]:
        """Bring the schema to the newest version; returns the migrations applied."""
        return self.migrations.up(report=report or (lambda _: None))

    def atomic(self) -> Any:
        """A transaction (or a savepoint inside one). On SQLite it is IMMEDIATE."""
        return self.db.atomic()

    def close(self) -> None:
        self.backend.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"<Store {self.backend.name} {self.url}>"


def open_store(url: str | None = None, *, create: bool = True) -> Store:
    """Open the database at ``url`` (default: $AZORA_DATABASE_URL, then
    ``sqlite:///azora.db``). Call ``store.migrate()`` to create or upgrade it.

    ``create=False``: the database must already exist (``DatabaseUnavailable``
    naming it otherwise), and connecting never creates it: an embedded database
    (a SQLite file) is opened read-write only if it is there. Read-only tools
    open stores this way, so a mistyped path leaves nothing behind."""
    backend = open_backend(url)
    if not create:
        backend.require_existing()
    return Store(backend)
