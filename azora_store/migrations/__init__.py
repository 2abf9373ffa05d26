"""Versioned schema migrations (``playhouse.migrations``) with a cross-process lock.

The numbered files in this directory each define ``up(migrator, db)`` and
``down(migrator, db)``; ``db.backend`` gives them the dialect DDL. peewee's
``Runner`` applies each file in its own transaction and records it in
``schema_migration``. What it does not do, this module adds: a lock so that
two runners at once (two ``azora-store init``, two app instances starting)
apply each migration exactly once, and progress reporting.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from playhouse.migrations import MigrationError, Runner

from ..backends.base import Backend
from ..errors import ConfigurationError

DIRECTORY = os.path.dirname(os.path.abspath(__file__))

Report = Callable[[str], None]


@dataclass(frozen=True)
class MigrationState:
    name: str
    applied_at: datetime | None

    @property
    def applied(self) -> bool:
        return self.applied_at is not None


def _quiet(_: str) -> None:
    pass


class Migrations:
    """Apply, revert and list the migrations of one database."""

    def __init__(self, backend: Backend, directory: str = DIRECTORY):
        self.backend = backend
        self.runner = Runner(backend.db, directory)

    def status(self) -> list[MigrationState]:
        return [MigrationState(m.name, m.applied) for m in self.runner.status()
                if m.path is not None or m.applied]

    def pending(self) -> list[str]:
        return [m.name for m in self.status() if not m.applied]

    def latest(self) -> str:
        return self.runner.migrations()[-1].name

    def up(self, target: str | None = None, report: Report = _quiet) -> list[str]:
        """Apply pending migrations (through ``target`` if given), under the lock."""
        self._check_target(target)
        applied: list[str] = []
        with self.backend.migration_lock(on_wait=report):
            for name in self.pending():
                started = time.perf_counter()
                report(f"applying {name} ...")
                self._run(lambda n=name: self.runner.up(target=n))
                applied.append(name)
                report(f"applied  {name} in {time.perf_counter() - started:.2f}s")
                if name == target:
                    break
        return applied

    def down(self, steps: int | None = 1, to: str | None = None,
             report: Report = _quiet) -> list[str]:
        """Revert the newest ``steps`` migrations, or every one applied after ``to``
        (``to="zero"`` reverts them all)."""
        if to is not None and to != "zero":
            self._check_target(to)
        reverted: list[str] = []
        with self.backend.migration_lock(on_wait=report):
            applied = [m.name for m in self.status() if m.applied]
            if to == "zero":
                plan = list(reversed(applied))
            elif to is not None:
                plan = list(reversed(applied[applied.index(to) + 1:])) if to in applied else []
            else:
                plan = list(reversed(applied))[:steps]
            for name in plan:
                started = time.perf_counter()
                report(f"reverting {name} ...")
                self._run(lambda n=name: self.runner.down(target=n))
                reverted.append(name)
                report(f"reverted  {name} in {time.perf_counter() - started:.2f}s")
        return reverted

    def new(self, name: str) -> str:
        """Write the next numbered skeleton file; returns its path."""
        if not name.strip():
            raise ConfigurationError("a migration needs a name, e.g. `migrate new add_badges`")
        return self.runner.create(name, body=TEMPLATE.format(name=name))

    def _check_target(self, target: str | None) -> None:
        if target is not None and target not in {m.name for m in self.runner.migrations()}:
            known = ", ".join(m.name for m in self.runner.migrations())
            raise ConfigurationError(f"unknown migration {target!r}: known are {known}")

    @staticmethod
    def _run(step: Callable[[], object]) -> None:
        try:
            step()
        except MigrationError as exc:
            raise ConfigurationError(str(exc)) from exc


TEMPLATE = '''"""{name}"""

from peewee import *  # noqa: F403


def up(migrator, db):
    # Portable changes: migrator.migrate(migrator.add_column("jobs", "x", TextField(default="")))
    # Dialect DDL: db.backend.execute_script(db.backend.<new_ddl_method>())
    raise NotImplementedError("write the migration")


def down(migrator, db):
    raise NotImplementedError("write its exact inverse")
'''
