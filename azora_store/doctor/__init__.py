"""``azora-store doctor``: what is this database, and is anything off?"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from ..errors import AzoraError

if TYPE_CHECKING:
    from ..store import Store

SEARCHED_TABLES = ("jobs", "job_skills")  # job search visits their rows


@dataclass
class Report:
    sections: list[tuple[str, list[tuple[str, str]]]] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    def render(self) -> str:
        lines = []
        for title, rows in self.sections:
            lines.append(title)
            width = max((len(k) for k, _ in rows), default=0)
            lines.extend(f"  {key:<{width}}  {value}" for key, value in rows)
        lines.extend(f"WARNING: {text}" for text in self.warnings)
        lines.extend(f"PROBLEM: {text}" for text in self.problems)
        if not self.warnings and not self.problems:
            lines.append("OK: nothing to report")
        return "\n".join(lines)


def diagnose(store: Store, full_counters: bool = False) -> Report:
    report = Report()
    backend = store.backend
    if not backend.database_exists():
        report.sections.append(("database", [("backend", backend.name), ("url", store.url)]))
        report.problems.append(f"there is no database at {store.url} yet: run `azora-store init`")
        return report
    try:
        version = backend.server_version()
    except AzoraError as exc:
        report.problems.append(str(exc))
        report.sections.append(("database", [("backend", backend.name), ("url", store.url)]))
        return report
    report.sections.append(("database", [("backend", backend.name), ("version", version),
                                         ("url", store.url)]))
    settings = backend.settings()
    report.sections.append(("settings", sorted(settings.items())))
    for name, good, why in backend.setting_warnings:
        value = settings.get(name)
        if value is not None and value.lower() not in good:
            report.warnings.append(f"{name}={value}: {why}")
    report.warnings.extend(backend.cache_warnings(SEARCHED_TABLES))
    if backend.reads is not None:
        from ..replicas.report import replica_sections

        sections, warnings = replica_sections(backend.reads)
        report.sections.extend(sections)
        report.warnings.extend(warnings)

    states = store.migrations.status()
    applied = [s for s in states if s.applied]
    pending = [s.name for s in states if not s.applied]
    report.sections.append(("schema", [
        ("migrations", f"{len(applied)} of {len(states)} applied"),
        ("newest applied", applied[-1].name if applied else "none"),
        ("pending", ", ".join(pending) if pending else "none"),
    ]))
    if pending:
        report.problems.append(f"{len(pending)} migration(s) pending: run `azora-store init`")
        return report
    _add_user_counters(store, report, full_counters)
    _add_query_plans(store, report)
    return report


def _add_user_counters(store: Store, report: Report, full: bool) -> None:
    """The trigger-kept per-user counters compared with the user_stats view:
    a sample of users spread over the id range, or every user."""
    from .user_counters import SAMPLE, check_user_counters

    check = check_user_counters(store, None if full else SAMPLE)
    how = ("every user" if check.mode == "full"
           else f"a sample of {check.checked:,} users spread evenly over the ids")
    report.sections.append(("user counters", [
        ("compared", f"{how} (user_counters vs the user_stats view)"),
        ("rows", f"{check.counter_rows:,} counter rows for {check.users:,} users"),
        ("drift", f"{len(check.drifts):,} of {check.checked:,} users" if check.drifts
         else "none"),
    ]))
    if check.ok:
        return
    shown = "; ".join(drift.describe() for drift in check.drifts[:3])
    counted = ("" if check.users == check.counter_rows else
               f"{check.counter_rows:,} counter rows for {check.users:,} users; ")
    report.problems.append(
        f"user counters drifted from the user_stats view ({counted}{len(check.drifts):,} of "
        f"{check.checked:,} users compared differ{': ' + shown if shown else ''}): something "
        "changed the tables without their triggers; rebuild the counters with "
        "store.backend.fill_user_counters() (see docs/search.md)")


def _add_query_plans(store: Store, report: Report) -> None:
    """The plan of every statement behind the four target queries; a warning
    for each big table one of them reads from end to end."""
    from ..search.plans import BIG_TABLE_ROWS, query_plans

    for plan in query_plans(store):
        rows = []
        for number, (sql, lines) in enumerate(plan.statements, 1):
            rows.append((f"statement {number}", " ".join(sql.split())[:160]))
            rows.extend(("", line) for line in lines)
        if not rows:  # e.g. a skill no open job has: known without a statement
            rows.append(("no statement", "answered without SQL: nothing matches the sample "
                                         "parameters yet (an empty database?)"))
        report.sections.append((f"plan of {plan.name}", rows))
        for table, size in plan.full_scans:
            report.warnings.append(
                f"{plan.name} reads all of {table} (~{size:,} rows, above {BIG_TABLE_ROWS:,}): "
                f"an index is missing or unused; run ANALYZE and check the migrations")


def diagnose_routes(report: Report, routes: tuple[str, ...], lease: float = 30.0,
                    backoff_cap: float = 3600.0) -> None:
    """One section per sync route whose handler can check its broker."""
    if not routes:
        return
    from ..sync.handlers import Router, load_handler
    from ..sync.worker import WorkerConfig

    config = WorkerConfig(lease=lease, backoff_cap=backoff_cap)
    for service, spec in Router.parse(routes).routes.items():
        handler = load_handler(spec)
        check = getattr(handler, "diagnose", None)
        if check is None:
            report.sections.append((f"route {service}", [("handler", handler.name),
                                                         ("broker", "none to check")]))
            continue
        found = check(config)
        report.sections.append((f"route {service} ({handler.name})", found.rows))
        report.warnings.extend(found.warnings)
        report.problems.extend(found.problems)
