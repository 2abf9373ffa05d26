"""``azora-store market ...`` and ``azora-store demo``."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

import click

from ..support.clitools import db_option

if TYPE_CHECKING:
    from ..store import Store


@click.group("market")
def market_group() -> None:
    """Scheduled marketplace jobs.

    \b
    Example:
      azora-store market release-due
    """


@market_group.command("release-due")
@click.option("--now", "now", type=click.DateTime(), metavar="TIME",
              help="Release what is due at this UTC time instead of now "
                   "(e.g. 2026-01-31T00:00:00).")
@click.option("--limit", type=click.IntRange(min=1), default=1000, show_default=True,
              help="Most milestones to release in one run.")
@db_option
def release_due(store: Store, now: datetime | None, limit: int) -> None:
    """Release every SUBMITTED milestone whose auto-release deadline has passed
    (escrows frozen by a dispute are skipped). Safe to run from cron on several
    hosts: each release has a fixed idempotency key.

    \b
    Example:
      azora-store market release-due --db postgresql://postgres@127.0.0.1:5432/azora
    """
    report = store.market.release_due(now=now, limit=limit)
    for result in report.released:
        click.echo(f"released milestone #{result.milestone_id}: {result.amount} "
                   f"{result.currency} from escrow #{result.escrow_id} ({result.status})")
    for milestone_id, why in report.skipped:
        click.echo(f"skipped milestone #{milestone_id}: {why}")
    totals = ", ".join(f"{amount} {currency}" for currency, amount in report.total.items())
    click.echo(f"{len(report.released)} milestone(s) released" +
               (f" ({totals})" if totals else ""))


@click.command("demo")
@click.option("--db", "url", default="sqlite:///demo.db", show_default=True, metavar="URL",
              help="Where to run the story: a fresh database.")
@click.option("--reset", is_flag=True,
              help="Wipe the database first (reverts every migration) if it has data.")
def demo_command(url: str, reset: bool) -> None:
    """Run the whole marketplace story on a fresh database and print what happened:
    users, KYC, a job, applications, a hire, an escrow with milestones, a release,
    a dispute settled by a split, reviews, compliance, the outbox's sync status.

    \b
    Example:
      azora-store demo --db sqlite:///demo.db
      azora-store demo --db sqlite:///demo.db --reset
    """
    from ..store import open_store
    from .demo import run_demo

    with open_store(url) as store:
        run_demo(store, click.echo, reset=reset)


__all__ = ["demo_command", "market_group"]
