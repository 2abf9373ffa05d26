"""Users: create (email validated, unique case-insensitively), soft delete.

A soft-deleted user keeps every financial and audit row; their email stays
taken (so history never points at a reused address). Deleting is refused
while the user has an OPEN or IN_PROGRESS job (as client or freelancer) or
money in a wallet; their PENDING applications are withdrawn.
"""

from __future__ import annotations

from typing import Any

from ..errors import Conflict
from ..models import (
    Account,
    AccountKind,
    Application,
    ApplicationStatus,
    Job,
    JobStatus,
    SyncOperation,
    User,
    UserRole,
)
from ..support.clock import utcnow
from ..workflow.service import Service, enum_value, text
from ..workflow.transitions import APPLICATION, record_many

EMAIL_MAX_LENGTH = 254


def user_payload(user: User) -> dict[str, Any]:
    return {"email": user.email, "full_name": user.full_name, "role": str(user.role),
            "deleted": user.deleted_at is not None}


class UsersMixin(Service):
    def create_user(self, email: str, full_name: str,
                    role: UserRole | str = UserRole.MEMBER) -> User:
        """A new user; the email is stored trimmed and lower-cased."""
        email = text(email, "email", EMAIL_MAX_LENGTH).lower()
        full_name = text(full_name, "full_name", 200)
        role = enum_value(UserRole, role, "role")
        user = User(email=email, full_name=full_name, role=role)
        user.validate()  # the email's shape, before any round trip
        with self.store.atomic():
            if User.select().where(User.email == email).exists():
                raise Conflict(f"email {email} is already registered", field="email",
                               rule="unique")
            user.save(force_insert=True)
            self._emit("User", user.id, SyncOperation.CREATE, user_payload(user))
        return user

    def get_user(self, user_id: int) -> User:
        return self._user(user_id)

    def delete_user(self, user_id: int, *, actor_id: int | None = None) -> User:
        """Soft delete (sets ``deleted_at``); see the module notes for what blocks it."""
        with self.store.atomic():
            user = self._get(User, user_id, lock=True)
            self._require_party(actor_id, [user.id], "delete this user")
            self._check_nothing_open(user)
            pending = list(Application.select(Application.id, Application.status)
                           .where((Application.freelancer == user.id)
                                  & (Application.status == ApplicationStatus.PENDING))
                           .tuples())
            if pending:
                Application.update(status=ApplicationStatus.WITHDRAWN).where(
                    Application.id.in_([row[0] for row in pending])).execute()
                record_many(APPLICATION, pending, ApplicationStatus.WITHDRAWN, actor_id,
                            "user deleted")
            user.deleted_at = utcnow()
            user.save(only=[User.deleted_at])
            self._emit("User", user.id, SyncOperation.DELETE, user_payload(user))
        return user

    def _check_nothing_open(self, user: User) -> None:
        active = [JobStatus.OPEN, JobStatus.IN_PROGRESS]
        if Job.select().where(((Job.client == user.id) | (Job.freelancer == user.id))
                              & Job.status.in_(active) & Job.deleted_at.is_null()).exists():
            raise Conflict(f"user {user.id} has an OPEN or IN_PROGRESS job: complete or cancel "
                           "it first", field="user_id", rule="active_jobs")
        if Account.select().where((Account.kind == AccountKind.WALLET)
                                  & (Account.owner == user.id) & (Account.balance != 0)).exists():
            raise Conflict(f"user {user.id} still has money in a wallet: withdraw it first",
                           field="user_id", rule="wallet_not_empty")


__all__ = ["UsersMixin", "user_payload"]
