"""What every workflow shares: input checks, row look-ups and locks, parties.

Each workflow runs in one ``store.atomic()`` transaction: it locks the rows it
reads and then writes (``backend.lock_rows``: ``FOR UPDATE`` on Postgres; on
SQLite the IMMEDIATE write transaction already excludes other writers),
checks everything and raises the package's errors *before* writing, then
writes the change, its transition history and its outbox events.

Lock order, everywhere: job, escrow, milestone, dispute, application, then
user wallets (in id order); system accounts are only locked by the transfer
trigger, last. A fixed order means two workflows never wait on each other in
a cycle.
"""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING, Any, TypeVar

from ..errors import Forbidden, NotFound, ValidationError
from ..models import SyncOperation, User, UserRole
from ..models.base import BaseModel
from ..money import from_minor, to_minor
from . import events

if TYPE_CHECKING:
    from ..store import Store

M = TypeVar("M", bound=BaseModel)


def check_id(value: Any, field: str) -> int:
    """Ids are whole numbers; anything else is a ValidationError naming the field."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValidationError(f"{field} must be a whole number, got {value!r}", field=field,
                              rule="type")
    return value


def money(value: Any, field: str, *, allow_zero: bool = False) -> Decimal:
    """A positive amount (Decimal or str major units) as a two-place Decimal."""
    minor = to_minor(value, field)
    if minor < 0 or (minor == 0 and not allow_zero):
        raise ValidationError(f"{field} must be greater than zero, got {value}", field=field,
                              rule="positive")
    return from_minor(minor)


def text(value: Any, field: str, max_length: int | None = None, *,
         required: bool = True) -> str:
    """A trimmed string within ``max_length``; blank only when not ``required``."""
    if not isinstance(value, str):
        raise ValidationError(f"{field} must be text, got {type(value).__name__}",
                              field=field, rule="type")
    value = value.strip()
    if required and not value:
        raise ValidationError(f"{field} must not be blank", field=field, rule="not_blank")
    if max_length is not None and len(value) > max_length:
        raise ValidationError(f"{field} must be at most {max_length} characters",
                              field=field, rule="length")
    return value


def enum_value(enum_class: Any, value: Any, field: str) -> Any:
    try:
        return enum_class(value.upper() if isinstance(value, str) else value)
    except ValueError:
        allowed = ", ".join(member.value for member in enum_class)
        raise ValidationError(f"{field} must be one of {allowed}, got {value!r}",
                              field=field, rule="enum") from None


class Service:
    """Base of the workflow mixins that make up ``Market`` and ``Compliance``."""

    def __init__(self, store: Store):
        self.store = store

    # -- rows ------------------------------------------------------------------------

    def _get(self, model: type[M], row_id: Any, field: str | None = None, *,
             lock: bool = False) -> M:
        """The row with this id (locked until commit if ``lock``), or NotFound.
        Soft-deleted rows count as missing."""
        field = field or f"{model._meta.table_name.rstrip('s')}_id"
        check_id(row_id, field)
        query = model.select().where(model._meta.primary_key == row_id)
        if lock:
            query = self.store.backend.lock_rows(query)
        row = query.first()
        if row is None or getattr(row, "deleted_at", None) is not None:
            raise NotFound(f"{model.__name__} {row_id} does not exist", field=field,
                           rule="exists")
        return row

    def _user(self, user_id: Any, field: str = "user_id") -> User:
        return self._get(User, user_id, field)

    def _require_party(self, actor_id: int | None, allowed: list[int | None],
                       action: str) -> None:
        """``actor_id`` must be one of ``allowed`` or an ADMIN. ``None`` means the
        platform itself (a scheduled job, an operator's command): always allowed."""
        if actor_id is None or actor_id in allowed:
            return
        actor = self._user(actor_id, "actor_id")
        if actor.role != UserRole.ADMIN:
            raise Forbidden(f"user {actor_id} may not {action}", field="actor_id",
                            rule="party")

    # -- events ----------------------------------------------------------------------

    def _emit(self, entity_type: str, entity_id: int, operation: SyncOperation | str,
              payload: dict[str, Any]) -> None:
        events.emit(self.store, entity_type, entity_id, operation, payload)


__all__ = ["Service", "check_id", "enum_value", "money", "text"]
