"""``azora-store seed``: fill a fresh database with a deterministic marketplace."""

from __future__ import annotations

import sys
import time
from typing import TYPE_CHECKING

import click

from ..support.clitools import db_option
from ..support.extras import require
from . import SCALES, Seeder

if TYPE_CHECKING:
    from ..store import Store


class Progress:
    """One line per table on stderr, rewritten in place while it loads.

    Two tables may load at once (the outbox beside the others): each table's
    rate is measured from its own first report, not from the last switch."""

    def __init__(self) -> None:
        self.table: str | None = None
        self.started: dict[str, float] = {}
        self.tty = sys.stderr.isatty()
        self.done_shown: set[str] = set()  # without a terminal: one line per table, when done

    def __call__(self, table: str, done: int, total: int) -> None:
        now = time.perf_counter()
        started = self.started.setdefault(table, now)
        if table != self.table:
            if self.table is not None and self.tty:
                click.echo("", err=True)
            self.table = table
        elapsed = now - started
        rate = f"{done / elapsed:>10,.0f} rows/s" if elapsed > 0 else f"{'-':>10} rows/s"
        line = (f"  {table:<20} {done:>12,} / {total:>12,} rows "
                f"({min(done / max(total, 1), 1):>4.0%})  {rate}")
        if self.tty:
            click.echo("\r" + line, err=True, nl=False)
        elif done >= total and table not in self.done_shown:
            click.echo(line, err=True)
            self.done_shown.add(table)

    def finish(self) -> None:
        if self.table is not None and self.tty:
            click.echo("", err=True)


@click.command("seed")
@click.option("--scale", type=click.Choice(list(SCALES)), default="small", show_default=True,
              help="tiny 1k users | small 20k | medium 200k | large 1M (10M outbox events).")
@click.option("--seed", "seed", type=int, default=42, show_default=True,
              help="Random seed: the same seed gives the same rows on either backend.")
@db_option(must_exist=False)
def seed_command(store: Store, scale: str, seed: int) -> None:
    """Fill a fresh database with a deterministic marketplace for benchmarks and
    load tests. Needs the field-encryption key (KYC documents are encrypted).

    \b
    Example:
      export AZORA_FIELD_KEY="$(python -m azora_store.crypto)"
      azora-store init --db sqlite:///bench.db
      azora-store seed --scale medium --db sqlite:///bench.db
    """
    require("numpy", "azora-store seed")  # before the schema is created
    store.migrate()
    sizes = SCALES[scale]
    click.echo(f"seeding {store.url} at scale {scale}: {sizes.users:,} users, {sizes.jobs:,} "
               f"jobs, ~{sizes.applications:,} applications, {sizes.outbox:,} outbox events",
               err=True)
    progress = Progress()
    summary = Seeder(store, scale, seed, progress).run()
    progress.finish()
    click.echo(f"{'table':<20} {'rows':>12} {'seconds':>9}")
    for table, rows in summary.rows.items():
        click.echo(f"{table:<20} {rows:>12,} {summary.seconds[table]:>9.1f}")
    for step, seconds in summary.seconds.items():
        if step not in summary.rows:  # the steps after the loads
            click.echo(f"{step:<33} {seconds:>9.1f}")
    click.echo(f"{'total':<20} {sum(summary.rows.values()):>12,} {summary.total_seconds:>9.1f}")
