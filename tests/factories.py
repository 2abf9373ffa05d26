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
