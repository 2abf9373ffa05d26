"""``azora-store serve`` and ``azora-store token create|list|revoke``.

Nothing here imports falcon, gunicorn or prometheus_client at module level:
``azora-store --help`` stays fast, and ``serve`` sets up metrics before they load.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

import click

from ..backends import DEFAULT_URL, URL_ENV
from ..errors import SchemaOutOfDate
from ..support.clitools import db_option, echo_err

if TYPE_CHECKING:
    from ..store import Store

#: What ``serve`` imports (the [server] extra); prometheus_client only in the
#: workers, after the metrics directory is set up.
SERVER_MODULES = ("falcon", "gunicorn", "prometheus_client")


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to listen on (0.0.0.0 for every interface).")
@click.option("--port", type=click.IntRange(1, 65535), default=4000, show_default=True)
@click.option("--workers", type=click.IntRange(1, 128), default=2 * (os.cpu_count() or 1),
              show_default="2 x CPU count",
              help="Worker processes, each with its own database connections.")
@click.option("--threads", type=click.IntRange(1, 256), default=1, show_default=True,
              help="Threads per worker (gthread). Processes beat threads here "
                   "(docs/http-api.md).")
@click.option("--worker-class", type=click.Choice(["gthread", "sync"]), default="gthread",
              show_default=True, help="gunicorn worker class (sync has no keep-alive).")
@click.option("--access-log", is_flag=True, help="Log every request on stderr.")
@click.option("--db", "url", envvar=URL_ENV, default=DEFAULT_URL, show_default=True,
              metavar="URL", help=f"Database URL (or ${URL_ENV}).")
def serve_command(url: str, host: str, port: int, workers: int, threads: int,
                  worker_class: str, access_log: bool) -> None:
    """Serve the HTTP API (falcon under gunicorn) until SIGTERM/SIGINT.

    Routes: /healthz, /api/jobs, /api/jobs/{id}, /api/jobs/{id}/applications,
    /api/users/{id}/stats, /api/sync/status, /api/kyc/{user_id}, /metrics,
    /openapi.json. Every /api route needs a bearer token (azora-store token create).

    \b
    Example:
      azora-store serve --db sqlite:///azora.db --port 4000 --workers 2
      curl -H "Authorization: Bearer $TOKEN" http://127.0.0.1:4000/api/sync/status
    """
    from ..store import open_store
    from ..support.extras import check

    check(SERVER_MODULES, "azora-store serve")
    from .server import ServeOptions, Server

    # Check the database once here, then close it: workers open their own after fork.
    with open_store(url, create=False) as store:
        pending = store.migrations.pending()
        store.backend.fetch("SELECT 1", ())
        shown = store.url
    if pending:
        raise SchemaOutOfDate(f"{shown} has {len(pending)} pending migration(s) "
                              f"({', '.join(pending)}): run `azora-store init` first")
    echo_err(f"serving {shown} on http://{host}:{port} ({workers} worker(s) x {threads} "
             f"thread(s), {worker_class})")
    Server(url, ServeOptions(host=host, port=port, workers=workers, threads=threads,
                             worker_class=worker_class, access_log=access_log)).serve()


@click.group("token")
def token_group() -> None:
    """Create, list and revoke the API's bearer tokens (stored hashed).

    \b
    Example:
      azora-store token create --name loadtest --scope read --scope write
      azora-store token list
      azora-store token revoke loadtest
    """


@token_group.command("create")
@click.option("--name", required=True, help="Who or what uses the token.")
@click.option("--scope", "scopes", multiple=True, required=True,
              help="read, write, compliance or operator (repeat, or separate with commas).")
@db_option
def token_create(store: Store, name: str, scopes: tuple[str, ...]) -> None:
    """Create a token and print it once (only its SHA-256 hash is stored).

    \b
    Example:
      export AZORA_TOKEN="$(azora-store token create --scope read --name loadtest)"
    """
    from .auth import Tokens

    row, token = Tokens(store).create(name, scopes)
    click.echo(token)
    echo_err(f"token {row.id} {row.name!r} ({row.scopes}): shown once, keep it somewhere safe")


@token_group.command("list")
@click.option("--all", "everything", is_flag=True, help="Include revoked tokens.")
@db_option
def token_list(store: Store, everything: bool) -> None:
    """List tokens: id, name, scopes, created, last used, revoked.

    \b
    Example:
      azora-store token list --all
    """
    from .auth import Tokens

    def when(value: Any) -> str:
        return value.strftime("%Y-%m-%d %H:%M:%S") if value else "-"

    rows = Tokens(store).list(include_revoked=everything)
    click.echo(f"{'id':>5}  {'name':<24} {'scopes':<22} {'created':<19}  {'last used':<19}  "
               "revoked")
    for row in rows:
        click.echo(f"{row.id:>5}  {row.name:<24} {row.scopes:<22} {when(row.created_at):<19}  "
                   f"{when(row.last_used_at):<19}  {when(row.revoked_at)}")


@token_group.command("revoke")
@click.argument("name_or_id")
@db_option
def token_revoke(store: Store, name_or_id: str) -> None:
    """Revoke the token with this id, or every active token with this name. Servers
    stop accepting it within a few seconds (their token cache).

    \b
    Example:
      azora-store token revoke loadtest
    """
    from .auth import Tokens

    count = Tokens(store).revoke(name_or_id)
    click.echo(f"revoked {count} token(s)")
