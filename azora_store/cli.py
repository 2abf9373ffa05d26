"""``azora-store``: the command line (click).

Every command takes ``--db URL`` (default: $AZORA_DATABASE_URL, then
sqlite:///azora.db). Errors the package raises on purpose are printed as one
line and exit with status 1 (2 for configuration errors); anything else is a
bug and keeps its traceback.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any

import click

from .api.commands import serve_command, token_group
from .bench.command import bench_command
from .compliance.commands import audit_group
from .errors import AzoraError, ConfigurationError
from .market.commands import demo_command, market_group
from .seed.command import seed_command
from .support.clitools import db_option, echo_err
from .sync.commands import sync_group

if TYPE_CHECKING:
    from .migrations import Revert
    from .store import Store


class AzoraGroup(click.Group):
    """Turns the package's own errors into one readable line."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except AzoraError as exc:
            click.echo(f"error: {exc}", err=True)
            ctx.exit(2 if isinstance(exc, ConfigurationError) else 1)


@click.group(cls=AzoraGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="azora_store")
def cli() -> None:
    """azora_store: the Azora marketplace's storage engine (SQLite or PostgreSQL).

    \b
    Quick start:
      azora-store demo                       # the whole story on SQLite
      azora-store init --db postgresql://postgres@127.0.0.1:5432/azora
    """


# -- schema ------------------------------------------------------------------------


@cli.command()
@db_option(must_exist=False)
def init(store: Store) -> None:
    """Create the database or upgrade it to the newest schema.

    Safe to run at every start-up and from several processes at once: a lock
    makes each migration apply exactly once.

    \b
    Example:
      azora-store init --db sqlite:///azora.db
    """
    applied = store.migrate(report=echo_err)
    latest = store.migrations.latest()
    if applied:
        click.echo(f"{store.url}: applied {len(applied)} migration(s); schema is at {latest}")
    else:
        click.echo(f"{store.url}: schema is up to date ({latest})")


@cli.group()
def migrate() -> None:
    """Apply, revert, list or create schema migrations.

    \b
    Example:
      azora-store migrate status
      azora-store migrate down --steps 1
    """


@migrate.command("up")
@click.option("--to", "target", metavar="NAME", help="Stop after this migration.")
@db_option(must_exist=False)
def migrate_up(store: Store, target: str | None) -> None:
    """Apply pending migrations (all, or through --to NAME).

    \b
    Example:
      azora-store migrate up --to 0003_ledger_and_audit_triggers
    """
    applied = store.migrations.up(target=target, report=echo_err)
    click.echo(f"applied {len(applied)} migration(s)" if applied else "nothing to apply")


@migrate.command("down")
@click.option("--steps", type=click.IntRange(min=1), default=1, show_default=True,
              help="How many of the newest migrations to revert.")
@click.option("--to", "target", metavar="NAME", help="Revert everything applied after NAME.")
@click.option("--all", "everything", is_flag=True, help="Revert every migration (drops all).")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@db_option
def migrate_down(store: Store, steps: int, target: str | None, everything: bool,
                 yes: bool) -> None:
    """Revert migrations (the newest one by default). Reverting 0001 drops every table.

    Whenever the migrations to revert drop tables (0001, 0010, ...), it first
    lists them with their row counts and asks; without a terminal to ask on,
    it refuses unless given --yes.

    \b
    Example:
      azora-store migrate down --to 0001_initial
      azora-store migrate down --all --yes
    """
    if everything and target:
        raise ConfigurationError("use either --all or --to NAME, not both")
    to = "zero" if everything else target
    plan = store.migrations.down_plan(steps=steps, to=to)
    if not plan:
        click.echo("nothing to revert")
        return
    if not yes and any(revert.tables for revert in plan):
        _confirm_drops(store, plan)
    reverted = store.migrations.down(steps=steps, to=to, report=echo_err,
                                     expect=[revert.name for revert in plan])
    click.echo(f"reverted {len(reverted)} migration(s)" if reverted else "nothing to revert")


def _confirm_drops(store: Store, plan: list[Revert]) -> None:
    """List what the revert drops (on stderr) and ask; refuse where nobody can answer."""
    counts = store.migrations.row_counts([t for revert in plan for t in revert.tables])
    width = max(len(revert.name) for revert in plan)
    echo_err(f"migrate down would revert {len(plan)} migration(s) of {store.url}, "
             "newest first:")
    for revert in plan:
        if len(revert.tables) <= 1:
            dropped = "".join(f"drops table {t}: {_rows(counts[t])}" for t in revert.tables)
            echo_err(f"  {revert.name:<{width}}  {dropped}".rstrip())
            continue
        echo_err(f"  {revert.name:<{width}}  drops {len(revert.tables)} tables:")
        for table in revert.tables:
            if counts[table]:
                echo_err(f"      {table:<24} {_rows(counts[table])}")
        empty = [table for table in revert.tables if not counts[table]]
        if empty:
            shown = "empty" if len(empty) == len(revert.tables) else f"and {len(empty)} empty"
            echo_err(f"      {shown}: {', '.join(empty)}")
    tables = sum(len(revert.tables) for revert in plan)
    lost = f"{tables} table(s) holding {_rows(sum(counts.values()))}"
    if sys.stdin is None or not sys.stdin.isatty():
        raise ConfigurationError(f"migrate down would drop {lost} and there is no terminal "
                                 "to confirm it on: run it again with --yes to confirm")
    click.confirm(f"Drop {lost} in {store.url}?", abort=True, err=True)


def _rows(count: int) -> str:
    from .migrations import ROW_COUNT_CAP

    shown = f"{count:,} row" + ("" if count == 1 else "s")
    return shown if count <= ROW_COUNT_CAP else f"~{shown}"


@migrate.command("status")
@db_option
def migrate_status(store: Store) -> None:
    """List migrations with the time each was applied. Exits 1 if any is pending.

    \b
    Example:
      azora-store migrate status --db postgresql://postgres@127.0.0.1/azora
    """
    rows = store.migrations.status()
    for row in rows:
        mark = "x" if row.applied else " "
        when = row.applied_at.strftime("%Y-%m-%d %H:%M:%S") if row.applied_at else "pending"
        click.echo(f"[{mark}] {row.name:<40} {when}")
    if any(not row.applied for row in rows):
        sys.exit(1)


@migrate.command("new")
@click.argument("name")
@db_option(must_exist=False)  # never connects: it writes a file in the package
def migrate_new(store: Store, name: str) -> None:
    """Write the next numbered migration file with empty up() and down().

    \b
    Example:
      azora-store migrate new add_badges
    """
    click.echo(store.migrations.new(name))


@cli.command()
@click.option("--route", "routes", multiple=True, metavar="SERVICE=HANDLER[:ARG]",
              help="Also check this sync route's broker (reachable, stream or exchange "
                   "present, duplicate window vs the worker's redelivery gap). Repeatable.")
@click.option("--lease", type=click.FloatRange(min=1), default=30.0, show_default=True,
              help="The workers' --lease, for the redelivery gap a broker must cover.")
@click.option("--backoff-cap", type=click.FloatRange(min=0), default=3600.0, show_default=True,
              help="The workers' --backoff-cap, for the same gap.")
@click.option("--full-counters", is_flag=True,
              help="Compare every user's counters with the user_stats view, not a sample "
                   "of 1,000 users (minutes at a million users).")
@db_option
def doctor(store: Store, routes: tuple[str, ...], lease: float, backoff_cap: float,
           full_counters: bool) -> None:
    """Show the backend, server version, the settings that matter, pending
    migrations, and warnings about anything risky; check the per-user
    counters against the user_stats view.

    \b
    Example:
      azora-store doctor --db postgresql://postgres@127.0.0.1:5432/azora
      azora-store doctor --route 'notifications=nats:nats://127.0.0.1:4222?stream=AZORA'
    """
    from .doctor import diagnose, diagnose_routes

    report = diagnose(store, full_counters=full_counters)
    diagnose_routes(report, routes, lease, backoff_cap)
    click.echo(report.render())
    if report.problems:
        sys.exit(1)


cli.add_command(sync_group)
cli.add_command(market_group)
cli.add_command(audit_group)
cli.add_command(demo_command)
cli.add_command(seed_command)
cli.add_command(bench_command)
cli.add_command(serve_command)
cli.add_command(token_group)


def main() -> None:
    cli(prog_name="azora-store")


if __name__ == "__main__":  # pragma: no cover
    main()
