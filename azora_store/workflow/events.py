"""Which downstream services hear about which entity: the one subscription table.

Every workflow enqueues one outbox event per subscribed service, in its own
transaction (``store.sync.enqueue_many``: one INSERT for all of them). The
ordering key stays the outbox default, ``<entity type>:<id>``, so the events
of one entity reach each service in the order they happened.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from ..models import SyncOperation

if TYPE_CHECKING:
    from ..store import Store

SUBSCRIPTIONS: dict[str, tuple[str, ...]] = {
    "User": ("notifications",),
    "Course": ("learning",),
    "Enrollment": ("learning", "notifications"),
    "Job": ("search", "notifications"),
    "Application": ("notifications",),
    "Escrow": ("billing", "notifications"),
    "Milestone": ("billing", "notifications"),
    "LedgerTransaction": ("billing",),  # deposits and withdrawals
    "Dispute": ("support", "notifications"),
    "Review": ("search", "notifications"),
    "SkillVerification": ("search",),
    "KYC": ("compliance",),
    "AMLCheck": ("compliance",),
    "SecurityEvent": ("security",),
}


def emit(store: Store, entity_type: str, entity_id: int, operation: SyncOperation | str,
         payload: dict[str, Any]) -> None:
    """Queue ``payload`` for every service subscribed to ``entity_type``, in the
    caller's transaction."""
    services = SUBSCRIPTIONS[entity_type]
    store.sync.enqueue_many({"service": service, "entity_type": entity_type,
                             "entity_id": entity_id, "operation": operation,
                             "payload": payload} for service in services)


def emit_many(store: Store, entity_type: str,
              items: Iterable[tuple[int, SyncOperation | str, dict[str, Any]]]) -> None:
    """``emit`` for many entities of one type: (id, operation, payload) each."""
    services = SUBSCRIPTIONS[entity_type]
    store.sync.enqueue_many({"service": service, "entity_type": entity_type,
                             "entity_id": entity_id, "operation": operation,
                             "payload": payload}
                            for entity_id, operation, payload in items for service in services)


__all__ = ["SUBSCRIPTIONS", "emit", "emit_many"]
