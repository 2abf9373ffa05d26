"""``azora-store demo``: the whole marketplace story on a fresh database.

Users, KYC, a deposit, a job with skills, two applications, a hire, an escrow
with two milestones, a release, a dispute settled by a split, the job's
completion, both reviews, an AML check and security events; then the outbox
is delivered in-process and the summary ends with ``sync status``.
"""

from __future__ import annotations

import base64
import os
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..crypto import KEY_ENV, KEY_FILE_ENV, FieldCipher, generate_key
from ..errors import AzoraError, Conflict
from ..models import User

if TYPE_CHECKING:
    from ..store import Store

Echo = Callable[[str], None]


def fmt(amount: Decimal, currency: str = "USD") -> str:
    return f"{amount:,.2f} {currency}"


def prepare(store: Store, reset: bool, echo: Echo) -> None:
    """Bring the schema up to date; refuse a database that already has users."""
    if reset:
        store.migrations.down(to="zero")
    store.migrate()
    if User.select().exists():
        raise Conflict(f"{store.url} already has users: the demo wants a fresh database "
                       "(pass --reset to wipe this one, or use another --db)", rule="fresh")
    echo(f"azora_store demo on {store.url} ({store.backend.name} "
         f"{store.backend.server_version()}), schema {store.migrations.latest()}")


def ensure_key(store: Store, echo: Echo) -> None:
    """Use the configured field key, or make a throwaway one next to the database."""
    if os.environ.get(KEY_ENV) or os.environ.get(KEY_FILE_ENV):
        echo("field encryption: using the key from the environment")
        return
    path = getattr(store.backend, "path", None)
    key_file = Path(f"{path}.key" if path and path != ":memory:" else "azora-demo.key")
    if not key_file.exists():
        key_file.write_text(generate_key() + "\n")
        key_file.chmod(0o600)
        echo(f"field encryption: no {KEY_ENV} set, generated a throwaway key in {key_file} "
             f"(set {KEY_ENV} or {KEY_FILE_ENV} to use your own)")
    else:
        echo(f"field encryption: no {KEY_ENV} set, using the throwaway key in {key_file}")
    store.compliance.cipher = FieldCipher(base64.b64decode(key_file.read_text().strip()))


def story(store: Store, echo: Echo) -> dict[str, Any]:
    """Run every workflow once; returns the ids the summary refers to."""
    m, c = store.market, store.compliance
    amara = m.create_user("Amara@Client.example", "Amara Okafor")
    kofi = m.create_user("kofi@dev.example", "Kofi Mensah")
    zanele = m.create_user("zanele@dev.example", "Zanele Dube")
    officer = m.create_user("njeri@azora.example", "Njeri Kamau", role="ADMIN")
    echo("\n1. Users")
    for user, what in ((amara, "client"), (kofi, "freelancer"), (zanele, "freelancer"),
                       (officer, "compliance officer (ADMIN)")):
        echo(f"   #{user.id} {user.full_name:<13} <{user.email}>  {what}")

    echo("\n2. KYC (document number encrypted at rest, found by blind index, shown masked)")
    kyc = c.submit_kyc(kofi.id, "PASSPORT", "A1234-5678", "GH")
    kyc = c.approve_kyc(kyc.id, officer.id, "LOW")
    found = c.kyc_find("a12345678")
    echo(f"   Kofi: {kyc.document_type} {kyc.document_masked} ({kyc.country}) -> {kyc.status}, "
         f"risk {kyc.risk_level}, key {kyc.key_id}")
    echo(f"   look-up by document number finds user #{found[0].user_id}")

    echo("\n3. Wallet")
    deposit = m.deposit(amara.id, "1500.00", "USD", idempotency_key="demo-deposit-1")
    again = m.deposit(amara.id, "1500.00", "USD", idempotency_key="demo-deposit-1")
    echo(f"   deposit {fmt(deposit.amount)} into Amara's wallet (ledger transaction "
         f"#{deposit.transaction_ids[0]}); the same request replayed with its key: "
         f"{'no second deposit' if again.replayed else 'DEPOSITED TWICE'}")

    job = m.post_job(amara.id, "Build a payments API", "REST endpoints over PostgreSQL",
                     "1200.00", "USD", ["Python", "PostgreSQL", "REST  APIs", "python"])
    echo(f"\n4. Job #{job.id} \"{job.title}\", budget {fmt(job.budget)}, skills: "
         f"{', '.join(m.job_skills(job.id))}")
    first = m.apply(job.id, kofi.id, "I have built three such APIs.", "1100.00")
    second = m.apply(job.id, zanele.id, "Available from Monday.", "1150.00")
    echo(f"   applications: Kofi (bid {fmt(first.bid)}), Zanele (bid {fmt(second.bid)})")
    m.hire(first.id, actor_id=amara.id)
    echo(f"   hired Kofi: job {m.get_job(job.id).status}, Zanele's application "
         f"{m.get_application(second.id).status}")

    funding = m.fund_escrow(job.id, "1200.00", idempotency_key="demo-fund-1", actor_id=amara.id)
    escrow_id = funding.escrow_id
    design = m.add_milestone(escrow_id, "API design", "400.00", actor_id=amara.id)
    build = m.add_milestone(escrow_id, "Implementation", "800.00", actor_id=amara.id)
    echo(f"\n5. Escrow #{escrow_id} funded with {fmt(funding.amount)} from Amara's wallet; "
         f"milestones \"{design.title}\" {fmt(design.amount)}, \"{build.title}\" "
         f"{fmt(build.amount)}")
    m.submit_milestone(design.id, actor_id=kofi.id)
    release = m.release_milestone(design.id, idempotency_key="demo-release-1",
                                  actor_id=amara.id)
    held = m.escrow_figures(escrow_id).remaining
    echo(f"   \"{design.title}\" submitted and approved: {fmt(release.amount)} released to "
         f"Kofi's wallet; the escrow still holds {fmt(held)}")

    m.submit_milestone(build.id, actor_id=kofi.id)
    dispute = m.open_dispute(job.id, amara.id, "Implementation missed the agreed deadline")
    echo(f"\n6. Dispute #{dispute.id} opened by Amara: escrow "
         f"{m.escrow_figures(escrow_id).status}")
    try:
        m.release_milestone(build.id, idempotency_key="demo-release-2", actor_id=amara.id)
    except AzoraError as exc:
        echo(f"   a release attempt is refused: {exc}")
    m.review_dispute(dispute.id, actor_id=officer.id)
    resolution = m.resolve_dispute(dispute.id, "split", client_amount="300.00",
                                   freelancer_amount="500.00", note="half the work was late",
                                   idempotency_key="demo-resolve-1", actor_id=officer.id)
    figures = m.escrow_figures(escrow_id)
    echo(f"   resolved as a split: {fmt(resolution.to_freelancer)} to Kofi, "
         f"{fmt(resolution.to_client)} back to Amara; escrow {figures.status}")
    echo(f"   escrow: funded {fmt(figures.funded)} = released {fmt(figures.released)} + "
         f"refunded {fmt(figures.refunded)} + remaining {fmt(figures.remaining)}")

    m.complete_job(job.id, actor_id=amara.id)
    m.leave_review(job.id, amara.id, 4, "Solid API, a little late.")
    m.leave_review(job.id, kofi.id, 5, "Clear requirements, fair client.")
    m.verify_skill(kofi.id, "Python", "EXPERT", score=92, verified_by=officer.id)
    echo(f"\n7. Job {m.get_job(job.id).status}; reviews: Amara -> Kofi 4/5, Kofi -> Amara 5/5; "
         "Kofi's python verified EXPERT")

    aml = c.record_aml_check(kofi.id, 12, False, "payout within profile", "rules-2025.1",
                             "internal", ledger_transaction_id=resolution.transaction_ids[0])
    c.record_event("auth.login", "INFO", user_id=amara.id, ip="203.0.113.7",
                   user_agent="Mozilla/5.0", details={"method": "password"})
    c.record_event("kyc.approved", "LOW", user_id=kofi.id, details={"kyc_id": kyc.id})
    c.record_event("dispute.resolved", "MEDIUM", user_id=officer.id,
                   details={"dispute_id": dispute.id, "outcome": "split"})
    echo(f"\n8. Compliance: AML check on Kofi scored {aml.score} "
         f"({'flagged' if aml.flagged else 'not flagged'}, {aml.rule_version}/{aml.provider}); "
         f"3 security events; {c.verify_chain()}")
    return {"amara": amara.id, "kofi": kofi.id, "escrow": escrow_id}


def summary(store: Store, ids: dict[str, Any], echo: Echo) -> None:
    from ..sync import Router, Worker, WorkerConfig

    m = store.market
    check = m.check_ledger()
    echo(f"\n9. Balances: Amara {fmt(m.balance(ids['amara'], 'USD'))}, Kofi "
         f"{fmt(m.balance(ids['kofi'], 'USD'))}; ledger "
         f"{'balanced' if check.ok else 'NOT BALANCED'} ({check.transactions} transactions, "
         "each one's postings sum to zero; no balance below zero)")
    stats = Worker(store, Router({"*": "eventlog"}),
                   WorkerConfig(exit_when_idle=True, idle_max=0.01)).run()
    echo(f"\n10. Outbox: delivered {stats.completed} events in-process (handler eventlog); "
         "sync status:")
    render_status(store.sync.status(), echo)


def render_status(report: Any, echo: Echo) -> None:
    """The table ``azora-store sync status`` prints."""
    statuses = list(report.counts)
    echo(f"   {'service':<16}" + "".join(f"{s:>12}" for s in statuses))
    for service, counts in report.services.items():
        echo(f"   {service:<16}" + "".join(f"{counts[s]:>12}" for s in statuses))
    echo(f"   {'total':<16}" + "".join(f"{report.counts[s]:>12}" for s in statuses))


def run_demo(store: Store, echo: Echo, reset: bool = False) -> None:
    prepare(store, reset, echo)
    ensure_key(store, echo)
    summary(store, story(store, echo), echo)


__all__ = ["run_demo"]
