"""``azora-store sync ...``: run workers and operate the outbox."""

from __future__ import annotations

import json
import logging
import multiprocessing
import signal
import sys
from dataclasses import asdict
from datetime import timedelta
from typing import TYPE_CHECKING, Any

import click

from ..support.clitools import Duration, db_option, echo_err
from .deadletters import MAX_LIMIT as MAX_FAILED_LIMIT
from .handlers import Router
from .worker import Worker, WorkerConfig

if TYPE_CHECKING:
    from ..store import Store


@click.group("sync")
def sync_group() -> None:
    """Deliver outbox events to other services and operate the outbox.

    \b
    Example:
      azora-store sync worker --concurrency 2 --route '*=eventlog'
      azora-store sync status --json
    """


def _run_worker(url: str, config: WorkerConfig, routes: tuple[str, ...]) -> None:
    """One worker process: its own store, its own signal handling."""
    from ..store import open_store

    logging.basicConfig(level=logging.INFO, stream=sys.stderr,
                        format="%(asctime)s %(processName)s %(levelname)s %(message)s")
    with open_store(url) as store:
        worker = Worker(store, Router.parse(routes), config)
        worker.install_signal_handlers()
        stats = worker.run()
    echo_err(json.dumps({"worker": worker.owner, **asdict(stats), "events_per_second":
                         round(stats.rate(), 1)}, default=str))


@sync_group.command("worker")
@click.option("--concurrency", type=click.IntRange(1, 64), default=1, show_default=True,
              help="Worker processes to run.")
@click.option("--batch", type=click.IntRange(1, 10_000), default=250, show_default=True,
              help="Events claimed per round trip.")
@click.option("--lease", type=click.FloatRange(min=1), default=30.0, show_default=True,
              help="Seconds a claim holds an event; renewed every lease/3 while it is handled.")
@click.option("--route", "routes", multiple=True, metavar="SERVICE=HANDLER[:ARG]",
              help="Which handler delivers a service's events ('*' = every other service). "
                   "Repeatable. Without a route, the handler named like the service is used.")
@click.option("--service", "services", multiple=True, metavar="NAME",
              help="Only claim events for this service (repeatable).")
@click.option("--backoff", type=click.FloatRange(min=0), default=1.0, show_default=True,
              help="Base retry delay in seconds (doubles per attempt, with jitter).")
@click.option("--backoff-cap", type=click.FloatRange(min=0), default=3600.0, show_default=True,
              help="Longest retry delay in seconds; a broker's duplicate window should cover "
                   "lease + housekeeping + this (see docs/brokers.md).")
@click.option("--housekeeping", type=click.FloatRange(min=0.1), default=1.0, show_default=True,
              help="Seconds between upkeep rounds: fold counters, rescue expired leases.")
@click.option("--leased", is_flag=True,
              help="Lease every event, even for handlers that could be delivered "
                   "in-transaction (use for handlers that might crash the process).")
@click.option("--max-events", type=click.IntRange(min=1), help="Stop after claiming this many.")
@click.option("--exit-when-idle", is_flag=True, help="Stop when nothing is left to claim.")
@db_option
def sync_worker(store: Store, concurrency: int, batch: int, lease: float,
                routes: tuple[str, ...], services: tuple[str, ...], backoff: float,
                backoff_cap: float, housekeeping: float, leased: bool, max_events: int | None,
                exit_when_idle: bool) -> None:
    """Run outbox workers until SIGTERM/SIGINT (finish the event in hand, release
    the rest of the batch).

    Events of a service with no handler (no route for it, no handler named like
    it, no '*' route) are not claimed: they stay PENDING, and the worker warns
    once per such service. `sync status --route ...` lists them.

    \b
    Example:
      azora-store sync worker --concurrency 4 --route '*=eventlog'
      azora-store sync worker --route search=webhook:http://127.0.0.1:9000/events
    """
    router = Router.parse(routes)
    router.check()  # a bad route fails here, not in every child
    unrouted = router.unrouted(services)
    if unrouted:
        raise click.UsageError(f"no sync handler for --service {', '.join(unrouted)}: add "
                               f"--route {unrouted[0]}=HANDLER (or a '*' route)")
    config = WorkerConfig(batch=batch, lease=lease, backoff_base=backoff, backoff_cap=backoff_cap,
                          housekeeping_every=housekeeping, leased_only=leased,
                          services=tuple(services), max_events=max_events,
                          exit_when_idle=exit_when_idle)
    url = store.backend.url.raw
    store.close()
    if concurrency == 1:
        _run_worker(url, config, routes)
        return
    context = multiprocessing.get_context("spawn")
    children = [context.Process(target=_run_worker, args=(url, config, routes),
                                name=f"sync-worker-{n}") for n in range(concurrency)]
    for child in children:
        child.start()

    def forward(signum: int, _frame: Any) -> None:
        for child in children:
            if child.is_alive():
                child.terminate()  # SIGTERM: each child stops gracefully

    signal.signal(signal.SIGTERM, forward)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the terminal sends SIGINT to children
    for child in children:
        child.join()
    failed = [child.name for child in children if child.exitcode]
    if failed:
        raise click.ClickException(f"worker process(es) {', '.join(failed)} exited with an "
                                   "error")


@sync_group.command("status")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
@click.option("--route", "routes", multiple=True, metavar="SERVICE=HANDLER[:ARG]",
              help="The routes your workers run with (as for `sync worker`): services "
                   "they have no handler for are listed as unrouted. Repeatable.")
@db_option
def sync_status(store: Store, as_json: bool, routes: tuple[str, ...]) -> None:
    """Exact event counts per status and service, and the oldest pending event's
    age, read from counters (never a COUNT over the outbox). Also the services a
    worker started with these --route options (none: the default routing) has
    no handler for: their events stay PENDING until a route is added.

    \b
    Example:
      azora-store sync status
      azora-store sync status --json --route '*=eventlog'
    """
    report = store.sync.status()
    router = Router.parse(routes)
    unrouted = {service: report.services[service]["PENDING"]
                for service in router.unrouted(report.services)
                if report.services[service]["PENDING"]}
    if as_json:
        click.echo(json.dumps({**report.to_json(), "routes": router.routes,
                               "unrouted": unrouted}, indent=2))
        return
    statuses = list(report.counts)
    click.echo(f"{'service':<20}" + "".join(f"{s:>12}" for s in statuses))
    for service, counts in report.services.items():
        click.echo(f"{service:<20}" + "".join(f"{counts[s]:>12}" for s in statuses))
    click.echo(f"{'total':<20}" + "".join(f"{report.counts[s]:>12}" for s in statuses))
    age = report.oldest_pending_age
    click.echo("oldest pending: " + ("none" if age is None else
                                     f"{report.oldest_pending_at:%Y-%m-%d %H:%M:%S} UTC "
                                     f"({age:.1f}s ago)"))
    given = (" ".join(f"{k}={v}" for k, v in router.routes.items()) if routes
             else "none given")
    click.echo(f"unrouted (routes: {given}): " + (", ".join(
        f"{service} ({pending} pending)" for service, pending in unrouted.items()) or "none"))


@sync_group.command("failed")
@click.option("--service", help="Only this service's events.")
@click.option("--error", "error_text", metavar="TEXT",
              help="Only events whose last error contains TEXT (any case).")
@click.option("--limit", type=click.IntRange(1, MAX_FAILED_LIMIT), default=20,
              show_default=True, help="Events per page.")
@click.option("--before", type=click.IntRange(1), metavar="ID",
              help="The page after this id (the previous page's next_before).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
@db_option
def sync_failed(store: Store, service: str | None, error_text: str | None, limit: int,
                before: int | None, as_json: bool) -> None:
    """List dead-lettered (FAILED) events, newest first: id, service, entity,
    attempts, when it failed and the last error.

    \b
    Example:
      azora-store sync failed --service search
      azora-store sync failed --error timeout --json --limit 100
      azora-store sync retry-failed --id 1042
    """
    page = store.sync.failed(service=service, error=error_text, limit=limit, before=before)
    if as_json:
        click.echo(json.dumps(page.to_json(), indent=2))
        return
    if not page.items:
        click.echo("no failed events" + (" on this page" if before else ""))
        return
    click.echo(f"{'id':>10}  {'service':<16} {'entity':<24} {'tries':>5}  "
               f"{'failed at (UTC)':<19}  last error")
    for e in page.items:
        entity = f"{e.entity_type}:{e.entity_id}"
        error = " ".join((e.last_error or "").split())
        click.echo(f"{e.id:>10}  {e.service[:16]:<16} {entity[:24]:<24} "
                   f"{e.attempts:>2}/{e.max_attempts:<2}  {e.failed_at:%Y-%m-%d %H:%M:%S}  "
                   f"{error[:80]}")
    if page.next_before is not None:
        click.echo(f"more: azora-store sync failed --before {page.next_before}")


@sync_group.command("retry-failed")
@click.option("--service", help="Only this service's events.")
@click.option("--id", "ids", type=int, multiple=True, help="Only these event ids (repeatable).")
@db_option
def sync_retry_failed(store: Store, service: str | None, ids: tuple[int, ...]) -> None:
    """Move FAILED (dead-lettered) events back to PENDING with fresh attempts.
    An --id that is unknown or not FAILED is an error (exit 1) and nothing moves.

    \b
    Example:
      azora-store sync retry-failed --service search
      azora-store sync retry-failed --id 1042 --id 1043
    """
    count = store.sync.retry_failed(service=service, ids=list(ids) or None)
    click.echo(f"{count} event(s) queued again")


@sync_group.command("prune")
@click.option("--older-than", type=Duration(), required=True, metavar="DURATION",
              help="Delete COMPLETED events finished before this long ago (e.g. 7d, 12h).")
@click.option("--batch", type=click.IntRange(100, 1_000_000), default=10_000,
              show_default=True, help="Rows scanned per transaction.")
@db_option
def sync_prune(store: Store, older_than: timedelta, batch: int) -> None:
    """Delete old COMPLETED events so the hot table stays small (counters follow).

    \b
    Example:
      azora-store sync prune --older-than 7d
    """

    def progress(scanned: int, deleted: int) -> None:
        echo_err(f"scanned {scanned:,} rows, deleted {deleted:,}")

    deleted = store.sync.prune(older_than, batch=batch, report=progress)
    click.echo(f"deleted {deleted} completed event(s) older than {older_than}")
    maintenance = store.backend.outbox_maintenance()
    if maintenance:
        click.echo(maintenance)


def _add_broker_commands() -> None:
    from .brokers.commands import consume_command

    sync_group.add_command(consume_command)


_add_broker_commands()
