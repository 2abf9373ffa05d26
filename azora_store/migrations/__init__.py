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
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

from peewee import Model
from playhouse.migrations import MigrationError, Runner

from ..backends.base import Backend
from ..errors import ConfigurationError, Conflict

DIRECTORY = os.path.dirname(os.path.abspath(__file__))

Report = Callable[[str], None]


#: ``row_counts`` counts exactly up to this many rows a table, then estimates.
ROW_COUNT_CAP = 100_000


@dataclass(frozen=True)
class Revert:
    """One migration that ``down`` would revert."""

    name: str
    tables: tuple[str, ...]  # the tables its down() drops (with every row in them)


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

    def down_plan(self, steps: int | None = 1, to: str | None = None) -> list[Revert]:
        """What ``down(steps, to)`` would revert, newest first, with the tables
        each one drops (read without changing anything)."""
        if to is not None and to != "zero":
            self._check_target(to)
        return [self._revert(name) for name in self._plan(steps, to)]

    def down(self, steps: int | None = 1, to: str | None = None,
             report: Report = _quiet, expect: Sequence[str] | None = None) -> list[str]:
        """Revert the newest ``steps`` migrations, or every one applied after ``to``
        (``to="zero"`` reverts them all). ``expect``: the names a confirmation
        was given for (``down_plan``); if another runner changed what is applied
        in the meantime, nothing is reverted."""
        if to is not None and to != "zero":
            self._check_target(to)
        reverted: list[str] = []
        with self.backend.migration_lock(on_wait=report):
            plan = self._plan(steps, to)
            if expect is not None and plan != list(expect):
                raise Conflict("the applied migrations changed while the revert was being "
                               "confirmed: nothing was reverted; run the command again")
            for name in plan:
                started = time.perf_counter()
                report(f"reverting {name} ...")
                self._run(lambda n=name: self.runner.down(target=n))
                reverted.append(name)
                report(f"reverted  {name} in {time.perf_counter() - started:.2f}s")
        return reverted

    def _plan(self, steps: int | None, to: str | None) -> list[str]:
        applied = [m.name for m in self.status() if m.applied]
        if to == "zero":
            return list(reversed(applied))
        if to is not None:
            return list(reversed(applied[applied.index(to) + 1:])) if to in applied else []
        return list(reversed(applied))[:steps]

    def _revert(self, name: str) -> Revert:
        """The tables a migration's down() drops are the frozen models its file
        declares (what its up() created)."""
        found = [m for m in self.runner.migrations() if m.name == name]
        if not found:  # applied, but its file is gone: down() will refuse it
            return Revert(name, ())
        module = found[0].load()
        tables = tuple(value._meta.table_name for value in vars(module).values()
                       if isinstance(value, type) and issubclass(value, Model)
                       and value.__module__ == module.__name__)
        return Revert(name, tables)

    def row_counts(self, tables: Sequence[str], cap: int = ROW_COUNT_CAP) -> dict[str, int]:
        """Rows in each table, counted exactly up to ``cap`` (then the backend's
        estimate, at least cap + 1): bounded work even on a seeded database."""
        counts = {}
        for table in tables:
            quoted = '"' + table.replace('"', '""') + '"'
            exact = self.backend.db.execute_sql(
                f"SELECT COUNT(*) FROM (SELECT 1 FROM {quoted} LIMIT {int(cap) + 1}) AS capped"
            ).fetchone()[0]
            counts[table] = (exact if exact <= cap
                             else max(self.backend.estimated_rows(table), cap + 1))
        return counts

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
    # Dialect DDL, frozen in sql/<sqlite|postgresql>/<this file's name>.<up|down>.sql:
    # db.backend.execute_script(db.backend.migration_sql("<this file's name>", "up"))
    raise NotImplementedError("write the migration")


def down(migrator, db):
    raise NotImplementedError("write its exact inverse")
'''
