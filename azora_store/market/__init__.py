"""The marketplace workflows: ``store.market``.

Each method is one transaction that locks what it reads, checks everything
before writing, then writes the change, its transition history and its
outbox events together (see ``azora_store.workflow.service``). Methods take plain ids and values
and return model instances or small dataclasses.

    job = store.market.post_job(client.id, "Build an API", "", "250.00", "USD", ["python"])
    application = store.market.apply(job.id, freelancer.id, "I can do it")
    store.market.hire(application.id)
    store.market.deposit(client.id, "500.00", "USD", idempotency_key="dep-1")
    store.market.fund_escrow(job.id, "250.00", idempotency_key="fund-1")
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .applications import ApplicationsMixin
from .disputes import DisputesMixin
from .escrow import ReleaseDueReport
from .learning import LearningMixin
from .ledger import EscrowFigures, LedgerMixin, MoneyResult
from .reviews import ReviewsMixin
from .users import UsersMixin

if TYPE_CHECKING:
    from ..store import Store


class Market(UsersMixin, LearningMixin, ApplicationsMixin, LedgerMixin, DisputesMixin,
             ReviewsMixin):
    """Users, learning, jobs, applications, ledger, escrow, disputes, reviews."""

    def __init__(self, store: Store):
        super().__init__(store)


__all__ = ["EscrowFigures", "Market", "MoneyResult", "ReleaseDueReport"]
