"""The replicas' part of ``azora-store doctor``."""

from __future__ import annotations

from typing import Any

from ..backends.base import Backend
from ..errors import AzoraError
from .router import PRIMARY, ReadRouter

#: Transactions each server has committed since its statistics were reset: on
#: a replica all of them are reads, so the figures show how reads split.
SERVED_SQL = ("SELECT xact_commit, tup_returned FROM pg_stat_database "
              "WHERE datname = current_database()")


def _served(backend: Backend) -> str:
    try:
        commits, returned = Backend.fetch(backend, SERVED_SQL, ())[0]
    except (AzoraError, IndexError):
        return "unknown (unreachable)"
    return f"{commits:,} transactions, {returned:,} rows returned (since stats reset)"


def replica_sections(router: ReadRouter) -> tuple[list[tuple[str, list[tuple[str, str]]]],
                                                   list[str]]:
    """(sections, warnings): each replica's state and lag after a fresh check,
    and what each server has served."""
    settings = router.settings
    sections = [("read routing", [
        ("replicas", str(len(router.replicas))),
        ("max lag", f"{settings.max_lag:g}s and {settings.max_bytes:,} bytes of WAL"),
        ("token wait", f"{settings.wait:g}s, then the primary"),
        ("health check", f"every {settings.check:g}s, statement timeout "
                         f"{settings.timeout_ms} ms"),
        (PRIMARY, _served(router.primary)),
    ])]
    warnings = []
    for replica in router.check():
        info: dict[str, Any] = replica.to_json()
        rows = [("state", replica.state),
                ("replayed up to", info["replay_lsn"] or "unknown"),
                ("byte lag", "unknown" if replica.byte_lag is None else f"{replica.byte_lag:,}"),
                ("time lag", "unknown" if replica.time_lag is None
                 else f"{replica.time_lag:.3f}s (at most; sampled at each check)")]
        if replica.error:
            rows.append(("error", replica.error))
        rows.append(("served", _served(replica.backend) if replica.state != "down"
                     else "unknown (down)"))
        sections.append((f"replica {replica.name}", rows))
        if not replica.healthy:
            why = {"down": "unreachable", "promoted": "promoted: it no longer follows the "
                   "primary (remove it from the URL or rebuild it as a replica)",
                   "lagging": "lagging beyond the limits"}.get(replica.state, replica.state)
            warnings.append(f"replica {replica.name} is {why}: reads go to the primary "
                            "or the other replicas")
    for (target, reason), count in sorted(router.counts().items()):
        sections[0][1].append((f"reads ({target}, {reason})", f"{count:,} in this process"))
    return sections, warnings
