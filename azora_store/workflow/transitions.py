"""The state machines of the marketplace: one graph per entity.

The code checks every status change against these graphs before writing, and
migration 0007 installs a trigger per table that refuses any other change,
so raw SQL cannot take a shortcut either (the trigger's message,
``azora|invalid_transition|<Entity>|<from>|<to>``, becomes the same
``InvalidTransition``). Every change also appends a ``StateTransition`` row.

The migration keeps a frozen copy of these graphs (released migrations never
change); a test checks that the copy and the graphs below agree.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from ..errors import InvalidTransition
from ..models import (
    Application,
    ApplicationStatus,
    Dispute,
    DisputeStatus,
    EntityType,
    Escrow,
    EscrowStatus,
    Job,
    JobStatus,
    KYCStatus,
    KYCVerification,
    Milestone,
    MilestoneStatus,
    StateTransition,
)
from ..models.base import BaseModel


@dataclass(frozen=True)
class Graph:
    """The allowed status changes of one entity."""

    entity: str  # the name in errors and outbox events ("Job")
    entity_type: EntityType  # the name in state_transitions ("JOB")
    model: type[BaseModel]
    states: tuple[str, ...]
    edges: frozenset[tuple[str, str]]

    @property
    def table(self) -> str:
        return self.model._meta.table_name

    def allows(self, from_state: str | None, to_state: str) -> bool:
        return (str(from_state), str(to_state)) in self.edges

    def check(self, from_state: str | None, to_state: str, detail: str = "") -> None:
        """Raise ``InvalidTransition`` unless ``from_state -> to_state`` is an edge."""
        if not self.allows(from_state, to_state):
            raise InvalidTransition(self.entity, str(from_state), str(to_state), detail)

    def spec(self) -> tuple[str, str, tuple[str, ...], tuple[tuple[str, str], ...]]:
        """The form the backends' trigger DDL takes: (table, entity, states, edges)."""
        return (self.table, self.entity, self.states, tuple(sorted(self.edges)))


def graph(entity: str, entity_type: EntityType, model: type[BaseModel],
          states: type[StrEnum], edges: Iterable[tuple[StrEnum, StrEnum]]) -> Graph:
    return Graph(entity, entity_type, model, tuple(s.value for s in states),
                 frozenset((a.value, b.value) for a, b in edges))


J, A, E, M, D, K = (JobStatus, ApplicationStatus, EscrowStatus, MilestoneStatus,
                    DisputeStatus, KYCStatus)

JOB = graph("Job", EntityType.JOB, Job, JobStatus, [
    (J.OPEN, J.IN_PROGRESS),  # hire
    (J.OPEN, J.CANCELLED),
    (J.IN_PROGRESS, J.COMPLETED),
    (J.IN_PROGRESS, J.CANCELLED),  # only once its escrow holds nothing
    (J.CANCELLED, J.OPEN),  # reopen a job cancelled before anyone was hired
])
APPLICATION = graph("Application", EntityType.APPLICATION, Application, ApplicationStatus, [
    (A.PENDING, A.ACCEPTED),
    (A.PENDING, A.REJECTED),
    (A.PENDING, A.WITHDRAWN),
])
ESCROW = graph("Escrow", EntityType.ESCROW, Escrow, EscrowStatus, [
    (E.FUNDED, E.FROZEN),  # a dispute opens
    # Emptied: everything paid out, everything returned, or some of each.
    *((source, final) for source in (E.FUNDED, E.FROZEN)
      for final in (E.RELEASED, E.REFUNDED, E.SETTLED)),
])
MILESTONE = graph("Milestone", EntityType.MILESTONE, Milestone, MilestoneStatus, [
    (M.PENDING, M.SUBMITTED),
    (M.PENDING, M.CANCELLED),
    (M.SUBMITTED, M.RELEASED),  # approve == release
    (M.SUBMITTED, M.CANCELLED),  # only when a dispute settles the escrow
])
DISPUTE = graph("Dispute", EntityType.DISPUTE, Dispute, DisputeStatus, [
    (D.OPEN, D.UNDER_REVIEW),
    *((source, outcome) for source in (D.OPEN, D.UNDER_REVIEW)
      for outcome in (D.RESOLVED_CLIENT, D.RESOLVED_FREELANCER, D.RESOLVED_SPLIT)),
])
KYC = graph("KYC", EntityType.KYC, KYCVerification, KYCStatus, [
    (K.PENDING, K.APPROVED),
    (K.PENDING, K.REJECTED),
    (K.PENDING, K.EXPIRED),  # a submission nobody reviewed in time
    (K.APPROVED, K.EXPIRED),
    (K.REJECTED, K.PENDING),  # submit again
    (K.EXPIRED, K.PENDING),
])

GRAPHS: tuple[Graph, ...] = (JOB, APPLICATION, ESCROW, MILESTONE, DISPUTE, KYC)


def record(g: Graph, entity_id: int, from_state: str | None, to_state: str,
           actor_id: int | None = None, reason: str = "") -> None:
    """Append one row to the transition history (creation: ``from_state=None``)."""
    StateTransition.insert(entity_type=g.entity_type, entity_id=entity_id,
                           from_state=None if from_state is None else str(from_state),
                           to_state=str(to_state), actor=actor_id, reason=reason).execute()


def record_many(g: Graph, rows: Iterable[tuple[int, str]], to_state: str,
                actor_id: int | None = None, reason: str = "") -> None:
    """History rows for many entities at once: ``rows`` are (id, from_state)."""
    values = [{"entity_type": g.entity_type, "entity_id": entity_id,
               "from_state": str(from_state), "to_state": str(to_state), "actor": actor_id,
               "reason": reason} for entity_id, from_state in rows]
    if values:
        StateTransition.insert_many(values).execute()


def move(g: Graph, instance: Any, to_state: str, actor_id: int | None = None,
         reason: str = "", detail: str = "", **changes: Any) -> None:
    """Check the edge, write the new status (and ``changes``) to the row, and
    record the transition. The row should be locked by the caller."""
    from_state = instance.status
    g.check(from_state, to_state, detail)
    instance.status = to_state
    for name, value in changes.items():
        setattr(instance, name, value)
    fields = [g.model._meta.fields[name] for name in ("status", *changes)]
    instance.save(only=fields)
    record(g, instance.id, from_state, to_state, actor_id, reason)


def history(g: Graph, entity_id: int) -> list[StateTransition]:
    """The transitions of one entity, oldest first."""
    return list(StateTransition.select()
                .where((StateTransition.entity_type == g.entity_type)
                       & (StateTransition.entity_id == entity_id))
                .order_by(StateTransition.id))


__all__ = ["APPLICATION", "DISPUTE", "ESCROW", "GRAPHS", "JOB", "KYC", "MILESTONE", "Graph",
           "history", "move", "record", "record_many"]
