"""Disputes: opening one freezes the escrow; resolving it distributes what the
escrow still holds (all to the client, all to the freelancer, or a split that
must add up to exactly that), cancels the milestones nobody was paid for, and
leaves the escrow in its final status."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from ..errors import InvalidTransition, ValidationError
from ..models import (
    Dispute,
    DisputeStatus,
    Escrow,
    EscrowStatus,
    Milestone,
    MilestoneStatus,
    SyncOperation,
    TransactionKind,
)
from ..support.clock import utcnow
from ..workflow.service import check_id, money, text
from ..workflow.transitions import DISPUTE, ESCROW, MILESTONE, move, record, record_many
from . import idempotency, ledger
from .escrow import EscrowMixin, escrow_payload, final_status
from .ledger import MoneyResult

OUTCOMES = {"client": DisputeStatus.RESOLVED_CLIENT,
            "freelancer": DisputeStatus.RESOLVED_FREELANCER,
            "split": DisputeStatus.RESOLVED_SPLIT}
ACTIVE = (DisputeStatus.OPEN, DisputeStatus.UNDER_REVIEW)


def dispute_payload(dispute: Dispute) -> dict[str, Any]:
    return {"job_id": dispute.job_id, "escrow_id": dispute.escrow_id,
            "status": str(dispute.status), "client_amount": dispute.client_amount,
            "freelancer_amount": dispute.freelancer_amount}


class DisputesMixin(EscrowMixin):
    def open_dispute(self, job_id: int, opened_by_id: int, reason: str) -> Dispute:
        """Either party disputes the job's escrow: it is FROZEN until resolved."""
        reason = text(reason, "reason")
        with self.store.atomic():
            escrow = self._lock_escrow(self.escrow_for_job(job_id).id, job_id)
            self._user(opened_by_id, "opened_by_id")
            self._require_party(opened_by_id, [escrow.client_id, escrow.freelancer_id],
                                "open a dispute on this escrow")
            move(ESCROW, escrow, EscrowStatus.FROZEN, opened_by_id, "dispute opened",
                 detail="only an escrow that still holds money (FUNDED) can be disputed")
            dispute = Dispute.create(job=escrow.job_id, escrow=escrow.id,
                                     opened_by=opened_by_id, reason=reason)
            record(DISPUTE, dispute.id, None, DisputeStatus.OPEN, opened_by_id, reason)
            self._emit("Dispute", dispute.id, SyncOperation.CREATE, dispute_payload(dispute))
            self._emit("Escrow", escrow.id, SyncOperation.UPDATE, escrow_payload(escrow))
        return dispute

    def review_dispute(self, dispute_id: int, *, actor_id: int | None = None) -> Dispute:
        """An operator takes the dispute up: OPEN -> UNDER_REVIEW."""
        with self.store.atomic():
            escrow_id = self._get(Dispute, dispute_id).escrow_id
            self._lock_escrow(escrow_id)
            dispute = self._get(Dispute, dispute_id, lock=True)
            self._require_party(actor_id, [], "review disputes")
            move(DISPUTE, dispute, DisputeStatus.UNDER_REVIEW, actor_id, "under review")
            self._emit("Dispute", dispute.id, SyncOperation.UPDATE, dispute_payload(dispute))
        return dispute

    def resolve_dispute(self, dispute_id: int, outcome: str, *, idempotency_key: str,
                        client_amount: Decimal | str | None = None,
                        freelancer_amount: Decimal | str | None = None, note: str = "",
                        actor_id: int | None = None) -> MoneyResult:
        """Resolve for the ``client`` (refund all that is held), the ``freelancer``
        (release all of it) or ``split`` (``client_amount + freelancer_amount`` must
        equal what the escrow holds)."""
        check_id(dispute_id, "dispute_id")
        if outcome not in OUTCOMES:
            raise ValidationError(f"outcome must be one of {', '.join(OUTCOMES)}, got "
                                  f"{outcome!r}", field="outcome", rule="enum")
        split = self._split_amounts(outcome, client_amount, freelancer_amount)
        request = {"dispute_id": dispute_id, "outcome": outcome, "split": split, "note": note,
                   "actor_id": actor_id}
        return idempotency.run(self.store, "resolve_dispute", idempotency_key, request,
                               MoneyResult,
                               lambda: self._resolve(dispute_id, outcome, split, note, actor_id))

    @staticmethod
    def _split_amounts(outcome: str, client_amount: Any, freelancer_amount: Any
                       ) -> tuple[Decimal, Decimal] | None:
        if outcome != "split":
            if client_amount is not None or freelancer_amount is not None:
                raise ValidationError("amounts are given only for a split", field="outcome",
                                      rule="amounts")
            return None
        for name, value in (("client_amount", client_amount),
                            ("freelancer_amount", freelancer_amount)):
            if value is None:
                raise ValidationError(f"{name} is required for a split", field=name,
                                      rule="required")
        return (money(client_amount, "client_amount", allow_zero=True),
                money(freelancer_amount, "freelancer_amount", allow_zero=True))

    def _resolve(self, dispute_id: int, outcome: str, split: tuple[Decimal, Decimal] | None,
                 note: str, actor_id: int | None) -> MoneyResult:
        escrow = self._lock_escrow(self._get(Dispute, dispute_id).escrow_id)
        dispute = self._get(Dispute, dispute_id, lock=True)
        self._require_party(actor_id, [], "resolve disputes")
        status = OUTCOMES[outcome]
        if dispute.status not in ACTIVE:
            raise InvalidTransition("Dispute", dispute.status, status)
        held = ledger.escrow_account(escrow.id).balance
        to_client, to_freelancer = split or ((held, ledger.ZERO) if outcome == "client"
                                             else (ledger.ZERO, held))
        if to_client + to_freelancer != held:
            raise ValidationError(
                f"client_amount {to_client} + freelancer_amount {to_freelancer} must add up to "
                f"the {held} escrow {escrow.id} holds", field="client_amount", rule="split_total")
        tx_ids = self._pay_out(escrow, to_client, to_freelancer, f"dispute {dispute.id}")
        self._cancel_open_milestones(escrow, actor_id, f"settled by dispute {dispute.id}")
        move(DISPUTE, dispute, status, actor_id, note, resolution_note=note,
             client_amount=to_client, freelancer_amount=to_freelancer, resolved_at=utcnow())
        move(ESCROW, escrow, final_status(ledger.escrow_figures(escrow)), actor_id,
             f"dispute {dispute.id} resolved")
        self._emit("Dispute", dispute.id, SyncOperation.UPDATE, dispute_payload(dispute))
        self._emit("Escrow", escrow.id, SyncOperation.UPDATE, escrow_payload(escrow))
        return MoneyResult("resolve_dispute", held, str(escrow.currency), tuple(tx_ids),
                           escrow_id=escrow.id, dispute_id=dispute.id, status=str(status),
                           to_freelancer=to_freelancer, to_client=to_client)

    def _pay_out(self, escrow: Escrow, to_client: Decimal, to_freelancer: Decimal,
                 memo: str) -> list[int]:
        source = ledger.escrow_account(escrow.id)
        freelancer = ledger.wallet(self.store, escrow.freelancer_id, escrow.currency)
        client = ledger.wallet(self.store, escrow.client_id, escrow.currency)
        # Both wallets locked in id order first: two resolutions with the parties'
        # roles swapped must not lock them in opposite orders.
        ledger.lock_accounts(self.store, [freelancer, client])
        tx_ids = []
        for kind, target, amount in ((TransactionKind.ESCROW_RELEASE, freelancer, to_freelancer),
                                     (TransactionKind.ESCROW_REFUND, client, to_client)):
            if amount > 0:
                tx_ids.append(ledger.post(kind, [(source, target, amount)], escrow_id=escrow.id,
                                          memo=memo))
        return tx_ids

    def _cancel_open_milestones(self, escrow: Escrow, actor_id: int | None,
                                reason: str) -> None:
        """The dispute settled the money these milestones claimed."""
        open_states = [MilestoneStatus.PENDING, MilestoneStatus.SUBMITTED]
        rows = list(self.store.backend.lock_rows(
            Milestone.select(Milestone.id, Milestone.status)
            .where((Milestone.escrow == escrow.id) & Milestone.status.in_(open_states))
            .order_by(Milestone.id)).tuples())
        if not rows:
            return
        (Milestone.update(status=MilestoneStatus.CANCELLED)
         .where(Milestone.id.in_([row[0] for row in rows])).execute())
        record_many(MILESTONE, rows, MilestoneStatus.CANCELLED, actor_id, reason)


__all__ = ["OUTCOMES", "DisputesMixin"]
