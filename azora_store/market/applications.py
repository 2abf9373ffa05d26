"""Applications: apply (one per job and freelancer, never to your own job, only
while the job is OPEN), withdraw, accept (== hire), reject."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from ..errors import Conflict, ValidationError
from ..models import Application, ApplicationStatus, Job, JobStatus, SyncOperation
from ..workflow.service import money, text
from ..workflow.transitions import APPLICATION, move, record
from .jobs import JobsMixin

COVER_LETTER_MAX_LENGTH = 10_000


def application_payload(application: Application) -> dict[str, Any]:
    return {"job_id": application.job_id, "freelancer_id": application.freelancer_id,
            "status": str(application.status), "bid": application.bid}


class ApplicationsMixin(JobsMixin):
    def apply(self, job_id: int, freelancer_id: int, cover_letter: str = "",
              bid: Decimal | str | None = None) -> Application:
        """A freelancer applies to an OPEN job (once), optionally with a bid in the
        job's currency."""
        cover_letter = text(cover_letter, "cover_letter", COVER_LETTER_MAX_LENGTH,
                            required=False)
        bid = None if bid is None else money(bid, "bid")
        with self.store.atomic():
            # Locked so that a concurrent hire never leaves this application PENDING.
            job = self._get(Job, job_id, lock=True)
            self._user(freelancer_id, "freelancer_id")
            if job.client_id == freelancer_id:
                raise ValidationError("a client cannot apply to their own job",
                                      field="freelancer_id", rule="not_client")
            if job.status != JobStatus.OPEN:
                raise Conflict(f"job {job.id} is {job.status}: applications are taken only "
                               "while it is OPEN", field="job_id", rule="state")
            if Application.select().where((Application.job == job.id) & (
                    Application.freelancer == freelancer_id)).exists():
                raise Conflict(f"user {freelancer_id} has already applied to job {job.id}",
                               field="freelancer_id", rule="unique")
            application = Application.create(job=job.id, freelancer=freelancer_id,
                                             cover_letter=cover_letter, bid=bid)
            record(APPLICATION, application.id, None, ApplicationStatus.PENDING, freelancer_id,
                   "applied")
            self._emit("Application", application.id, SyncOperation.CREATE,
                       application_payload(application))
        return application

    def get_application(self, application_id: int) -> Application:
        return self._get(Application, application_id)

    def _change(self, application_id: int, status: ApplicationStatus, actor_id: int | None,
                party: str, reason: str) -> Application:
        with self.store.atomic():
            job_id = self._get(Application, application_id).job_id
            job = self._get(Job, job_id, "application_id", lock=True)
            application = self._get(Application, application_id, lock=True)
            allowed = [application.freelancer_id] if party == "freelancer" else [job.client_id]
            self._require_party(actor_id, allowed, f"move this application to {status}")
            move(APPLICATION, application, status, actor_id, reason)
            self._emit("Application", application.id, SyncOperation.UPDATE,
                       application_payload(application))
        return application

    def withdraw_application(self, application_id: int, *,
                             actor_id: int | None = None) -> Application:
        """The freelancer takes a PENDING application back."""
        return self._change(application_id, ApplicationStatus.WITHDRAWN, actor_id,
                            "freelancer", "withdrawn")

    def reject_application(self, application_id: int, *, actor_id: int | None = None,
                           reason: str = "") -> Application:
        """The client declines a PENDING application."""
        return self._change(application_id, ApplicationStatus.REJECTED, actor_id, "client",
                            reason or "rejected")

    def accept_application(self, application_id: int, *,
                           actor_id: int | None = None) -> Application:
        """Same as ``hire``; returns the accepted application."""
        self.hire(application_id, actor_id=actor_id)
        return self._get(Application, application_id)


__all__ = ["ApplicationsMixin", "application_payload"]
