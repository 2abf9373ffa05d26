"""Escrow and milestones: fund, split into milestones, submit, release, refund.

Rules (each checked under the escrow's row lock, before anything is written):

- An escrow exists once a job is IN_PROGRESS (``fund_escrow`` creates it and
  may top it up while it is FUNDED). Its money is its ledger account's balance.
- Unreleased milestones (PENDING, SUBMITTED) never claim more than the escrow
  holds, so the sum of all milestone amounts never exceeds what was funded
  (a database trigger is the backstop).
- A milestone is released (approved) once SUBMITTED: its amount moves to the
  freelancer's wallet. A refund returns money nobody's milestone claims.
- While a dispute is open the escrow is FROZEN: nothing moves.
- An emptied escrow is final: RELEASED (all paid out), REFUNDED (all
  returned) or SETTLED (some of each).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from ..errors import (
    AzoraError,
    Conflict,
    InsufficientFunds,
    InvalidTransition,
    NotFound,
    ValidationError,
)
from ..models import (
    Account,
    AccountKind,
    Escrow,
    EscrowStatus,
    Job,
    JobStatus,
    Milestone,
    MilestoneStatus,
    SyncOperation,
    TransactionKind,
)
from ..support.clock import utcnow
from ..workflow.service import Service, check_id, money, text
from ..workflow.transitions import ESCROW, MILESTONE, move, record
from . import idempotency, ledger
from .ledger import MoneyResult

DEFAULT_AUTO_RELEASE = timedelta(days=14)


@dataclass
class ReleaseDueReport:
    """What ``release_due`` did: releases made, and milestones it left alone."""

    released: list[MoneyResult] = field(default_factory=list)
    skipped: list[tuple[int, str]] = field(default_factory=list)  # (milestone id, why)

    @property
    def total(self) -> dict[str, Decimal]:
        sums: dict[str, Decimal] = {}
        for result in self.released:
            sums[result.currency] = sums.get(result.currency, ledger.ZERO) + result.amount
        return sums


def escrow_payload(escrow: Escrow, **extra: Any) -> dict[str, Any]:
    return {"job_id": escrow.job_id, "status": str(escrow.status), "amount": escrow.amount,
            "currency": str(escrow.currency), **extra}


def milestone_payload(milestone: Milestone) -> dict[str, Any]:
    return {"escrow_id": milestone.escrow_id, "job_id": milestone.job_id,
            "title": milestone.title, "amount": milestone.amount,
            "status": str(milestone.status),
            "auto_release_at": milestone.auto_release_at}


def final_status(figures: ledger.EscrowFigures) -> EscrowStatus:
    if figures.refunded == 0:
        return EscrowStatus.RELEASED
    return EscrowStatus.REFUNDED if figures.released == 0 else EscrowStatus.SETTLED


class EscrowMixin(Service):
    #: How long after submission a milestone is released unless disputed.
    auto_release_after: timedelta = DEFAULT_AUTO_RELEASE

    # -- helpers shared with disputes ------------------------------------------------

    def _lock_job(self, job_id: int) -> None:
        """Lock a job row (soft-deleted or not) before its escrow: the global lock
        order. On Postgres, a workflow that locked the escrow first and then
        inserted a row referencing the job (a milestone, a dispute) waited for
        the job's KEY SHARE lock while ``fund_escrow`` held the job and waited for
        the escrow: a deadlock."""
        self.store.backend.lock_rows(Job.select(Job.id).where(Job.id == job_id)).first()

    def _lock_escrow(self, escrow_id: int, job_id: int | None = None) -> Escrow:
        """Lock the escrow's job, then the escrow (``job_id`` when known saves the
        look-up; an escrow never changes job)."""
        if job_id is None:
            job_id = self._get(Escrow, escrow_id, "escrow_id").job_id
        self._lock_job(job_id)
        return self._get(Escrow, escrow_id, "escrow_id", lock=True)

    def _check_not_frozen(self, escrow: Escrow) -> None:
        if escrow.status == EscrowStatus.FROZEN:
            raise Conflict(f"escrow {escrow.id} is FROZEN by an open dispute: nothing moves "
                           "until the dispute is resolved", field="escrow_id", rule="frozen")

    def _settle_if_empty(self, escrow: Escrow, remaining: Decimal, actor_id: int | None,
                         reason: str) -> None:
        """Move an escrow whose balance reached zero to its final status."""
        if remaining == 0:
            move(ESCROW, escrow, final_status(ledger.escrow_figures(escrow)), actor_id, reason)

    # -- funding ---------------------------------------------------------------------

    def fund_escrow(self, job_id: int, amount: Decimal | str, *, idempotency_key: str,
                    actor_id: int | None = None) -> MoneyResult:
        """Move ``amount`` from the client's wallet into the job's escrow (created on
        the first call, topped up on later ones while FUNDED)."""
        amount = money(amount, "amount")
        request = {"job_id": job_id, "amount": amount, "actor_id": actor_id}
        return idempotency.run(self.store, "fund_escrow", idempotency_key, request, MoneyResult,
                               lambda: self._fund(job_id, amount, actor_id))

    def _fund(self, job_id: int, amount: Decimal, actor_id: int | None) -> MoneyResult:
        job = self._get(Job, job_id, lock=True)
        self._require_party(actor_id, [job.client_id], "fund this job's escrow")
        if job.status != JobStatus.IN_PROGRESS:
            raise Conflict(f"job {job.id} is {job.status}: an escrow is funded once a "
                           "freelancer is hired (IN_PROGRESS)", field="job_id", rule="state")
        escrow = self.store.backend.lock_rows(Escrow.select().where(Escrow.job == job.id)).first()
        if escrow is not None and escrow.status != EscrowStatus.FUNDED:
            raise InvalidTransition("Escrow", escrow.status, EscrowStatus.FUNDED,
                                    "only a FUNDED escrow can be topped up")
        source = ledger.wallet(self.store, job.client_id, job.currency, lock=True)
        ledger.require_funds(source.balance, amount, f"the {job.currency} wallet of the client")
        if escrow is None:
            escrow = Escrow.create(job=job.id, client=job.client_id, freelancer=job.freelancer_id,
                                   amount=amount, currency=job.currency)
            target = Account.create(kind=AccountKind.ESCROW, escrow=escrow.id,
                                    currency=job.currency)
            record(ESCROW, escrow.id, None, EscrowStatus.FUNDED, actor_id, "funded")
            operation = SyncOperation.CREATE
        else:
            escrow.amount += amount
            escrow.save(only=[Escrow.amount])
            target = ledger.escrow_account(escrow.id)
            operation = SyncOperation.UPDATE
        tx_id = ledger.post(TransactionKind.ESCROW_FUND, [(source, target, amount)],
                            escrow_id=escrow.id)
        self._emit("Escrow", escrow.id, operation, escrow_payload(escrow, funded=amount))
        return MoneyResult("fund_escrow", amount, str(job.currency), (tx_id,),
                           escrow_id=escrow.id, status=str(escrow.status))

    def escrow_for_job(self, job_id: int) -> Escrow:
        """The job's escrow, or NotFound."""
        check_id(job_id, "job_id")
        found = Escrow.select().where(Escrow.job == job_id).first()
        if found is None:
            raise NotFound(f"job {job_id} has no escrow", field="job_id", rule="exists")
        return found

    # -- milestones ------------------------------------------------------------------

    def add_milestone(self, escrow_id: int, title: str, amount: Decimal | str, *,
                      auto_release_at: datetime | None = None,
                      actor_id: int | None = None) -> Milestone:
        """Commit part of what the escrow holds to a milestone."""
        title = text(title, "title", 200)
        amount = money(amount, "amount")
        if auto_release_at is not None and not isinstance(auto_release_at, datetime):
            raise ValidationError("auto_release_at must be a datetime (naive UTC)",
                                  field="auto_release_at", rule="type")
        with self.store.atomic():
            escrow = self._lock_escrow(escrow_id)
            self._require_party(actor_id, [escrow.client_id], "add milestones to this escrow")
            if escrow.status != EscrowStatus.FUNDED:
                raise Conflict(f"escrow {escrow.id} is {escrow.status}: milestones are added "
                               "to a FUNDED escrow", field="escrow_id", rule="state")
            available = ledger.escrow_figures(escrow).available
            if amount > available:
                raise ValidationError(
                    f"amount {amount} is more than the {available} of escrow {escrow.id} that "
                    "no milestone claims yet (fund the escrow further first)", field="amount",
                    rule="exceeds_escrow")
            milestone = Milestone.create(escrow=escrow.id, job=escrow.job_id, title=title,
                                         amount=amount, auto_release_at=auto_release_at)
            record(MILESTONE, milestone.id, None, MilestoneStatus.PENDING, actor_id, "added")
            self._emit("Milestone", milestone.id, SyncOperation.CREATE,
                       milestone_payload(milestone))
        return milestone

    def _lock_milestone(self, milestone_id: int) -> tuple[Escrow, Milestone]:
        """Lock the milestone's job, its escrow, then the milestone (the global lock
        order)."""
        found = self._get(Milestone, milestone_id)
        escrow = self._lock_escrow(found.escrow_id, found.job_id)
        return escrow, self._get(Milestone, milestone_id, lock=True)

    def submit_milestone(self, milestone_id: int, *, actor_id: int | None = None,
                         auto_release_after: timedelta | None = None) -> Milestone:
        """The freelancer delivers: PENDING -> SUBMITTED. Unless a deadline was set at
        creation, it is released automatically ``auto_release_after`` from now."""
        with self.store.atomic():
            escrow, milestone = self._lock_milestone(milestone_id)
            self._require_party(actor_id, [escrow.freelancer_id], "submit this milestone")
            now = utcnow()
            deadline = milestone.auto_release_at or now + (auto_release_after
                                                           or self.auto_release_after)
            move(MILESTONE, milestone, MilestoneStatus.SUBMITTED, actor_id, "submitted",
                 submitted_at=now, auto_release_at=deadline)
            self._emit("Milestone", milestone.id, SyncOperation.UPDATE,
                       milestone_payload(milestone))
        return milestone

    def cancel_milestone(self, milestone_id: int, *, actor_id: int | None = None,
                         reason: str = "") -> Milestone:
        """Withdraw a PENDING milestone; its amount is free again. (A submitted one is
        released, or settled by a dispute.)"""
        with self.store.atomic():
            escrow, milestone = self._lock_milestone(milestone_id)
            self._require_party(actor_id, [escrow.client_id], "cancel this milestone")
            if milestone.status == MilestoneStatus.SUBMITTED:
                raise InvalidTransition("Milestone", milestone.status, MilestoneStatus.CANCELLED,
                                        "a submitted milestone is released, or settled by a "
                                        "dispute")
            move(MILESTONE, milestone, MilestoneStatus.CANCELLED, actor_id, reason or "cancelled")
            self._emit("Milestone", milestone.id, SyncOperation.UPDATE,
                       milestone_payload(milestone))
        return milestone

    def release_milestone(self, milestone_id: int, *, idempotency_key: str,
                          actor_id: int | None = None) -> MoneyResult:
        """Approve a SUBMITTED milestone: its amount moves to the freelancer's wallet.
        The rest of the escrow stays held."""
        check_id(milestone_id, "milestone_id")
        request = {"milestone_id": milestone_id, "actor_id": actor_id}
        return idempotency.run(self.store, "release_milestone", idempotency_key, request,
                               MoneyResult, lambda: self._release(milestone_id, actor_id))

    def _release(self, milestone_id: int, actor_id: int | None,
                 reason: str = "approved") -> MoneyResult:
        escrow, milestone = self._lock_milestone(milestone_id)
        self._require_party(actor_id, [escrow.client_id], "approve this milestone")
        self._check_not_frozen(escrow)
        MILESTONE.check(milestone.status, MilestoneStatus.RELEASED)
        source = ledger.escrow_account(escrow.id)
        ledger.require_funds(source.balance, milestone.amount, f"escrow {escrow.id}")
        target = ledger.wallet(self.store, escrow.freelancer_id, escrow.currency)
        tx_id = ledger.post(TransactionKind.ESCROW_RELEASE, [(source, target, milestone.amount)],
                            escrow_id=escrow.id, milestone_id=milestone.id)
        move(MILESTONE, milestone, MilestoneStatus.RELEASED, actor_id, reason,
             released_at=utcnow())
        self._settle_if_empty(escrow, source.balance - milestone.amount, actor_id, reason)
        self._emit("Milestone", milestone.id, SyncOperation.UPDATE, milestone_payload(milestone))
        self._emit("Escrow", escrow.id, SyncOperation.UPDATE,
                   escrow_payload(escrow, released=milestone.amount))
        return MoneyResult("release_milestone", milestone.amount, str(escrow.currency),
                           (tx_id,), escrow_id=escrow.id, milestone_id=milestone.id,
                           status=str(escrow.status), to_freelancer=milestone.amount)

    # -- refunds ---------------------------------------------------------------------

    def refund_escrow(self, escrow_id: int, amount: Decimal | str | None = None, *,
                      idempotency_key: str, actor_id: int | None = None,
                      reason: str = "") -> MoneyResult:
        """Return money to the client's wallet: ``amount``, or by default all that no
        unreleased milestone claims. Never more than that."""
        check_id(escrow_id, "escrow_id")
        amount = None if amount is None else money(amount, "amount")
        request = {"escrow_id": escrow_id, "amount": amount, "actor_id": actor_id,
                   "reason": reason}
        return idempotency.run(self.store, "refund_escrow", idempotency_key, request,
                               MoneyResult,
                               lambda: self._refund(escrow_id, amount, actor_id, reason))

    def _refund(self, escrow_id: int, amount: Decimal | None, actor_id: int | None,
                reason: str) -> MoneyResult:
        escrow = self._lock_escrow(escrow_id)
        self._require_party(actor_id, [escrow.client_id, escrow.freelancer_id],
                            "refund this escrow")
        self._check_not_frozen(escrow)
        ESCROW.check(escrow.status, EscrowStatus.REFUNDED, "the escrow is already emptied")
        figures = ledger.escrow_figures(escrow)
        amount = figures.available if amount is None else amount
        if amount <= 0 or amount > figures.available:
            raise InsufficientFunds(
                f"escrow {escrow.id} has {figures.available} that no unreleased milestone "
                f"claims; cannot refund {amount} (cancel pending milestones first)",
                field="amount", rule="balance")
        tx_id = ledger.post(TransactionKind.ESCROW_REFUND,
                            [(ledger.escrow_account(escrow.id),
                              ledger.wallet(self.store, escrow.client_id, escrow.currency),
                              amount)], escrow_id=escrow.id, memo=reason)
        self._settle_if_empty(escrow, figures.remaining - amount, actor_id,
                              reason or "refunded")
        self._emit("Escrow", escrow.id, SyncOperation.UPDATE,
                   escrow_payload(escrow, refunded=amount))
        return MoneyResult("refund_escrow", amount, str(escrow.currency), (tx_id,),
                           escrow_id=escrow.id, status=str(escrow.status), to_client=amount)

    # -- automatic release -----------------------------------------------------------

    def release_due(self, now: datetime | None = None, limit: int = 1000) -> ReleaseDueReport:
        """Release every SUBMITTED milestone whose ``auto_release_at`` has passed,
        each in its own transaction, skipping frozen escrows. Safe to run from
        several schedulers at once: each release has a fixed idempotency key."""
        now = now or utcnow()
        due = list(Milestone.select(Milestone.id).join(Escrow)
                   .where((Milestone.status == MilestoneStatus.SUBMITTED)
                          & (Milestone.auto_release_at <= now)
                          & (Escrow.status == EscrowStatus.FUNDED))
                   .order_by(Milestone.auto_release_at, Milestone.id).limit(limit).tuples())
        report = ReleaseDueReport()
        for (milestone_id,) in due:
            try:
                result = idempotency.run(
                    self.store, "release_milestone", f"auto-release:{milestone_id}",
                    {"milestone_id": milestone_id, "actor_id": None}, MoneyResult,
                    lambda m=milestone_id: self._release(m, None, "auto-released"))
            except AzoraError as exc:  # released or frozen meanwhile: leave it
                report.skipped.append((milestone_id, str(exc)))
                continue
            if not result.replayed:
                report.released.append(result)
        return report


__all__ = ["DEFAULT_AUTO_RELEASE", "EscrowMixin", "ReleaseDueReport", "final_status"]
