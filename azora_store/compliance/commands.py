"""``azora-store audit ...``: check the security event log."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

import click

from ..support.clitools import db_option

if TYPE_CHECKING:
    from ..store import Store


@click.group("audit")
def audit_group() -> None:
    """Check the hash-chained security event log.

    \b
    Example:
      azora-store audit verify
    """


@audit_group.command("verify")
@click.option("--batch", type=click.IntRange(100, 1_000_000), default=5_000, show_default=True,
              help="Rows read per query.")
@db_option
def audit_verify(store: Store, batch: int) -> None:
    """Walk the security event chain in id order and report the first broken link
    (a row altered, or one before it removed). Exits 1 if the chain is broken.

    \b
    Example:
      azora-store audit verify --db postgresql://postgres@127.0.0.1:5432/azora
    """
    report = store.compliance.verify_chain(batch=batch)
    click.echo(str(report))
    if not report.ok:
        sys.exit(1)


__all__ = ["audit_group"]
