"""Replica options of a PostgreSQL URL.

    postgresql://app@primary/azora?replica=postgresql://app@replica1/azora
        &replica=postgresql://replica2&replica_max_lag=5

``replica`` repeats, one per replica; what a replica URL leaves out (user,
password, port, database) is the primary's. A replica URL's own options (such
as ``connect_timeout``) are percent-encoded inside it. The other options tune
the routing for every replica.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, quote, urlsplit, urlunsplit

from ..backends.base import DatabaseURL, seconds, whole_number
from ..errors import ConfigurationError

REPLICA = "replica"
#: Options that tune the routing (the converters say what each accepts).
ROUTING_OPTIONS: dict[str, Callable[[str], Any]] = {
    "replica_max_lag": seconds(0, 86_400),  # tokenless reads: replicas at most this old
    "replica_max_bytes": whole_number(0, 2**62, " (bytes of WAL)"),
    "replica_wait": seconds(0, 60),  # a token read waits this long for a replica
    "replica_check": seconds(0, 3_600),  # seconds between health checks
    "replica_timeout": whole_number(1, 60_000, " (ms)"),  # health check statement timeout
}
REPLICA_SCHEMES = ("postgresql", "postgres")


@dataclass(frozen=True)
class ReplicaSettings:
    urls: tuple[DatabaseURL, ...]
    max_lag: float = 5.0
    max_bytes: int = 16 * 2**20
    wait: float = 0.05
    check: float = 1.0
    timeout_ms: int = 250


def replica_options() -> dict[str, Callable[[str], Any]]:
    """Every replica option with its converter (``take_options`` style); the
    ``replica`` URLs themselves are checked by ``replica_settings``."""
    return {REPLICA: str, **ROUTING_OPTIONS}


def is_replica_option(name: str) -> bool:
    return name == REPLICA or name in ROUTING_OPTIONS


def replica_settings(url: DatabaseURL, values: dict[str, Any]) -> ReplicaSettings | None:
    """The replicas named by ``url`` and the routing options among ``values``
    (already converted); None when the URL names no replica."""
    raw = [value for name, value in parse_qsl(urlsplit(url.raw).query, keep_blank_values=True)
           if name == REPLICA]
    tuning = {name: values[name] for name in ROUTING_OPTIONS if name in values}
    if not raw:
        if tuning:
            raise ConfigurationError(
                f"option(s) {', '.join(sorted(tuning))} in {url.redacted()} tune replicas, "
                "but the URL names none: add replica=postgresql://host/db")
        return None
    replicas = tuple(_replica_url(url, text) for text in raw)
    seen = {(r.host, r.port, r.database) for r in replicas}
    if len(seen) < len(replicas):
        raise ConfigurationError(f"{url.redacted()} names the same replica twice")
    if (url.host, url.port or 5432, url.database) in seen:
        raise ConfigurationError(f"{url.redacted()} names the primary as its own replica")
    names = {"replica_max_lag": "max_lag", "replica_max_bytes": "max_bytes",
             "replica_wait": "wait", "replica_check": "check", "replica_timeout": "timeout_ms"}
    return ReplicaSettings(replicas, **{names[k]: v for k, v in tuning.items()})


def _replica_url(primary: DatabaseURL, text: str) -> DatabaseURL:
    """One ``replica=`` value as a full URL, the primary's parts filling gaps."""
    if not text:
        raise ConfigurationError(f"option replica in {primary.redacted()} is empty: give "
                                 "a URL such as replica=postgresql://host2/dbname")
    parsed = DatabaseURL.parse(text)
    if parsed.scheme not in REPLICA_SCHEMES:
        raise ConfigurationError(f"option replica={text!r}: a replica must be a "
                                 "postgresql:// URL")
    nested = sorted(name for name in parsed.options if is_replica_option(name))
    if nested:
        raise ConfigurationError(f"option replica={text!r}: a replica URL cannot carry "
                                 f"{', '.join(nested)} (routing options go on the primary's URL)")
    if not parsed.host:
        raise ConfigurationError(f"option replica={text!r} names no host")
    user = parsed.username or primary.username
    password = parsed.password or (primary.password if not parsed.username else None)
    credentials = ""
    if user:
        credentials = quote(user, safe="") + (f":{quote(password, safe='')}"
                                                if password else "") + "@"
    port = parsed.port or 5432
    database = parsed.database or primary.database
    parts = urlsplit(parsed.raw)
    host = f"[{parsed.host}]" if ":" in parsed.host else parsed.host
    full = urlunsplit((parsed.scheme, f"{credentials}{host}:{port}", f"/{quote(database)}",
                       parts.query, ""))
    return DatabaseURL.parse(full)
