"""The error boundary: driver errors leave a backend as ``azora_store.errors``.

``TranslatingDatabase`` wraps a peewee ``Database``'s entry points; the
backend's ``translate_error`` names the field and rule. ``app_error`` parses
the business-rule violations that triggers raise.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import peewee

from ..errors import AzoraError, Conflict, InsufficientFunds, InvalidTransition, ValidationError

if TYPE_CHECKING:
    from .base import Backend

# Triggers report business-rule violations as "azora|<code>|<field>|<message>"
# (invalid transitions: "azora|invalid_transition|<entity>|<from>|<to>").
APP_ERROR_MARK = "azora|"
_APP_ERRORS: dict[str, type[AzoraError]] = {
    "validation": ValidationError,
    "conflict": Conflict,
    "insufficient_funds": InsufficientFunds,
}


def app_error(message: str) -> AzoraError | None:
    """The package error a trigger raised, parsed from the driver's message."""
    start = message.find(APP_ERROR_MARK)
    if start < 0:
        return None
    parts = message[start:].splitlines()[0].split("|")
    code = parts[1] if len(parts) > 1 else ""
    if code == "invalid_transition" and len(parts) >= 5:
        return InvalidTransition(parts[2], parts[3] or None, parts[4])
    cls = _APP_ERRORS.get(code, Conflict)
    field_name = parts[2] if len(parts) > 2 and parts[2] else None
    text = "|".join(parts[3:]) if len(parts) > 3 else message[start:]
    return cls(text, field=field_name, rule=code)


class TranslatingDatabase:
    """Mixin for a peewee ``Database``: every driver error leaves as a package error.

    peewee already wraps driver exceptions in ``peewee.*Error`` (keeping the
    driver's as ``.orig``); the backend turns those into ``azora_store.errors``
    with the field and rule named.
    """

    backend: Backend

    def _translated(self, exc: Exception, sql: str = "", params: Any = None) -> AzoraError:
        orig = getattr(exc, "orig", exc)
        if isinstance(orig, AzoraError):
            # Already ours: peewee wraps exceptions by the name of a base class,
            # and azora_store's DatabaseError shares one with its own.
            return orig
        return self.backend.translate_error(exc, sql, params)

    def execute_sql(self, sql, params=None):
        try:
            return super().execute_sql(sql, params)
        except (peewee.PeeweeException, *self.backend.driver_errors) as exc:
            raise self._translated(exc, sql, params) from exc

    def connect(self, reuse_if_open=False):
        try:
            return super().connect(reuse_if_open)
        except (peewee.PeeweeException, *self.backend.driver_errors) as exc:
            raise self._translated(exc) from exc

    def begin(self, *args, **kwargs):
        try:
            return super().begin(*args, **kwargs)
        except (peewee.PeeweeException, *self.backend.driver_errors) as exc:
            raise self._translated(exc) from exc

    def commit(self):
        try:
            return super().commit()
        except (peewee.PeeweeException, *self.backend.driver_errors) as exc:
            raise self._translated(exc) from exc
