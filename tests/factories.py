"""A small hand-made marketplace, written through the models."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from azora_store.models import (
    Account,
    AccountKind,
    Application,
    Course,
    CourseStatus,
    Dispute,
    DocumentType,
    Enrollment,
    Escrow,
    Job,
    KYCVerification,
    LedgerTransaction,
    Review,
    SecurityEvent,
    SkillLevel,
    SkillVerification,
    TransactionKind,
    Transfer,
    User,
)
from azora_store.store import Store


@dataclass
class World:
    client: User
    freelancer: User
    course: Course
    job: Job
    escrow: Escrow
    client_wallet: Account
    escrow_account: Account
    external: Account
    transfer: Transfer


def make_user(email: str, name: str = "Someone") -> User:
    return User.create(email=email, full_name=name)


def transfer(kind: TransactionKind, source: Account, target: Account, amount: str,
             escrow: Escrow | None = None) -> Transfer:
    entry = LedgerTransaction.create(kind=kind, escrow=escrow)
    return Transfer.create(transaction=entry, kind=kind, from_account=source, to_account=target,
                           amount=Decimal(amount), currency=source.currency)


def build_world(store: Store) -> World:
    with store.atomic():
        client = make_user("client@example.org", "Cleo Client")
        freelancer = make_user("free@example.org", "Fred Freelancer")
        course = Course.create(instructor=client, title="Python", status=CourseStatus.PUBLISHED)
        Enrollment.create(user=freelancer, course=course)
        job = Job.create(client=client, title="Build an API", description="REST and SQL",
                         budget=Decimal("100.00"), currency="USD")
        Application.create(job=job, freelancer=freelancer)
        escrow = Escrow.create(job=job, client=client, freelancer=freelancer,
                               amount=Decimal("100.00"), currency="USD")
        external = Account.create(kind=AccountKind.EXTERNAL, currency="USD")
        client_wallet = Account.create(kind=AccountKind.WALLET, owner=client, currency="USD")
        escrow_account = Account.create(kind=AccountKind.ESCROW, escrow=escrow, currency="USD")
        deposit = transfer(TransactionKind.DEPOSIT, external, client_wallet, "500.00")
        Review.create(job=job, reviewer=client, reviewee=freelancer, rating=5)
        SkillVerification.create(user=freelancer, skill="Python", level=SkillLevel.EXPERT)
        KYCVerification.create(user=freelancer, document_type=DocumentType.PASSPORT,
                               document_ciphertext=b"\x00" * 32, document_index="a" * 64,
                               document_masked="*****1234", key_id="k1")
        Dispute.create(job=job, escrow=escrow, opened_by=client, reason="late")
        SecurityEvent.create(user=client, event_type="login", prev_hash="0" * 64,
                             hash="1" * 64)
    return World(client, freelancer, course, job, escrow, client_wallet, escrow_account,
                 external, deposit)


# -- a marketplace built through the workflows (store.market) --------------------------


@dataclass
class MarketWorld:
    """People and one hired job with a funded escrow and two milestones."""

    client: User
    freelancer: User
    rival: User  # applied to the job too; rejected when the freelancer was hired
    admin: User
    outsider: User
    job: Job
    application: Application
    rival_application: Application
    escrow_id: int
    pending: int  # milestone id, PENDING (100.00)
    submitted: int  # milestone id, SUBMITTED (100.00)


def market_world(store: Store, prefix: str = "", fund: str = "300.00") -> MarketWorld:
    """Client deposits 1,000.00 USD, posts a job, two freelancers apply, one is hired,
    the escrow is funded with ``fund`` and split into two 100.00 milestones (one
    submitted)."""
    m = store.market
    client = m.create_user(f"{prefix}client@example.org", "Cleo Client")
    freelancer = m.create_user(f"{prefix}free@example.org", "Fred Freelancer")
    rival = m.create_user(f"{prefix}rival@example.org", "Rita Rival")
    admin = m.create_user(f"{prefix}admin@example.org", "Ada Admin", role="ADMIN")
    outsider = m.create_user(f"{prefix}outsider@example.org", "Otto Outsider")
    m.deposit(client.id, "1000.00", "USD", idempotency_key=f"{prefix}deposit")
    job = m.post_job(client.id, "Build an API", "REST and SQL", "300.00", "USD",
                     ["Python", "SQL"])
    application = m.apply(job.id, freelancer.id, "I can", "280.00")
    rival_application = m.apply(job.id, rival.id, "Me too")
    job = m.hire(application.id, actor_id=client.id)
    escrow_id = m.fund_escrow(job.id, fund, idempotency_key=f"{prefix}fund").escrow_id
    pending = m.add_milestone(escrow_id, "Design", "100.00").id
    submitted = m.add_milestone(escrow_id, "Build", "100.00").id
    m.submit_milestone(submitted, actor_id=freelancer.id)
    return MarketWorld(client, freelancer, rival, admin, outsider, job, application,
                       rival_application, escrow_id, pending, submitted)


def contend(url: str, barrier, results, n: int, milestone_id: int, escrow_id: int) -> None:
    """One of several processes racing (run with multiprocessing spawn): release the
    same milestone, then refund 60.00 from the same escrow, each with its own key
    (reported as "ok" or the error class name), then all refund 10.00 with one
    shared key (reported as the result)."""
    import os

    from azora_store import open_store
    from azora_store.crypto import KEY_ENV, generate_key
    from azora_store.errors import AzoraError

    os.environ.setdefault(KEY_ENV, generate_key())
    store = open_store(url)

    def attempt(call) -> str:
        try:
            call()
        except AzoraError as exc:
            return type(exc).__name__
        return "ok"

    try:
        barrier.wait(timeout=60)
        released = attempt(lambda: store.market.release_milestone(
            milestone_id, idempotency_key=f"release-{n}"))
        barrier.wait(timeout=60)
        refunded = attempt(lambda: store.market.refund_escrow(
            escrow_id, "60.00", idempotency_key=f"refund-{n}"))
        barrier.wait(timeout=60)  # the same request and key from everyone at once
        shared = store.market.refund_escrow(escrow_id, "10.00", idempotency_key="shared")
        results.put((n, released, refunded, shared))
    finally:
        store.close()
