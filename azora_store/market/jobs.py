"""Jobs: post, edit while OPEN, hire, complete, cancel, reopen.

- ``post_job`` is the API's main write: a handful of statements (the client,
  the job, its skills in one INSERT, its history row, its events in one INSERT).
- A job is completed, or cancelled once hired, only when its escrow holds
  nothing (release or refund it first; a dispute must be resolved first).
- Cancelling rejects the applications still PENDING.
- A job cancelled before anyone was hired may be reopened.
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from ..errors import Conflict, InvalidTransition, ValidationError
from ..models import (
    Application,
    ApplicationStatus,
    Escrow,
    EscrowStatus,
    Job,
    JobSkill,
    JobStatus,
    SyncOperation,
)
from ..models.fields import normalise_skill
from ..money import check_currency
from ..support.clock import utcnow
from ..workflow import events
from ..workflow.service import Service, money, text
from ..workflow.transitions import APPLICATION, JOB, move, record, record_many

MAX_SKILLS = 20
SKILL_MAX_LENGTH = 64
TITLE_MAX_LENGTH = 200
DESCRIPTION_MAX_LENGTH = 20_000


def clean_skills(skills: Iterable[str]) -> list[str]:
    """Skills normalised (lower case, single spaces), de-duplicated in order."""
    if isinstance(skills, (str, bytes)) or not isinstance(skills, Iterable):
        raise ValidationError("skills must be a list of names, e.g. ['python', 'sql']",
                              field="skills", rule="type")
    cleaned: dict[str, None] = {}
    for skill in skills:
        if not isinstance(skill, str) or not skill.strip():
            raise ValidationError("each skill must be a non-blank name", field="skills",
                                  rule="not_blank")
        name = normalise_skill(skill)
        if len(name) > SKILL_MAX_LENGTH:
            raise ValidationError(f"a skill name has at most {SKILL_MAX_LENGTH} characters",
                                  field="skills", rule="length")
        cleaned[name] = None
    if len(cleaned) > MAX_SKILLS:
        raise ValidationError(f"a job lists at most {MAX_SKILLS} skills, got {len(cleaned)}",
                              field="skills", rule="max")
    return list(cleaned)


def job_payload(job: Job, skills: list[str] | None = None) -> dict[str, Any]:
    payload = {"title": job.title, "status": str(job.status), "client_id": job.client_id,
               "freelancer_id": job.freelancer_id, "budget": job.budget,
               "currency": str(job.currency)}
    if skills is not None:
        payload["skills"] = skills
    return payload


class JobsMixin(Service):
    def post_job(self, client_id: int, title: str, description: str,
                 budget: Decimal | str, currency: str, skills: Iterable[str] = ()) -> Job:
        """Publish an OPEN job with its skills (normalised, at most 20)."""
        title = text(title, "title", TITLE_MAX_LENGTH)
        description = text(description, "description", DESCRIPTION_MAX_LENGTH, required=False)
        budget = money(budget, "budget")
        currency = check_currency(currency)
        skills = clean_skills(skills)
        with self.store.atomic():
            self._user(client_id, "client_id")
            job = Job.create(client=client_id, title=title, description=description,
                             budget=budget, currency=currency)
            if skills:
                JobSkill.insert_many([{"job": job.id, "skill": s} for s in skills]).execute()
            record(JOB, job.id, None, JobStatus.OPEN, client_id, "posted")
            self._emit("Job", job.id, SyncOperation.CREATE, job_payload(job, skills))
        return job

    def get_job(self, job_id: int) -> Job:
        return self._get(Job, job_id)

    def job_skills(self, job_id: int) -> list[str]:
        return [row.skill for row in JobSkill.select(JobSkill.skill)
                .where(JobSkill.job == job_id).order_by(JobSkill.skill)]

    def edit_job(self, job_id: int, *, title: str | None = None,
                 description: str | None = None, budget: Decimal | str | None = None,
                 skills: Iterable[str] | None = None, actor_id: int | None = None) -> Job:
        """Change an OPEN job's title, description, budget or skills (None: keep)."""
        changes: dict[str, Any] = {}
        if title is not None:
            changes["title"] = text(title, "title", TITLE_MAX_LENGTH)
        if description is not None:
            changes["description"] = text(description, "description", DESCRIPTION_MAX_LENGTH,
                                          required=False)
        if budget is not None:
            changes["budget"] = money(budget, "budget")
        new_skills = None if skills is None else clean_skills(skills)
        with self.store.atomic():
            job = self._get(Job, job_id, lock=True)
            self._require_party(actor_id, [job.client_id], "edit this job")
            if job.status != JobStatus.OPEN:
                raise Conflict(f"job {job.id} is {job.status}: only an OPEN job can be edited",
                               field="job_id", rule="state")
            for name, value in changes.items():
                setattr(job, name, value)
            if changes:
                job.save(only=[Job._meta.fields[name] for name in changes])
            if new_skills is not None:
                JobSkill.delete().where(JobSkill.job == job.id).execute()
                if new_skills:
                    JobSkill.insert_many([{"job": job.id, "skill": s}
                                          for s in new_skills]).execute()
            self._emit("Job", job.id, SyncOperation.UPDATE, job_payload(job, new_skills))
        return job

    def _require_empty_escrow(self, job: Job, action: str) -> None:
        escrow = self.store.backend.lock_rows(Escrow.select().where(Escrow.job == job.id)).first()
        if escrow is not None and escrow.status in (EscrowStatus.FUNDED, EscrowStatus.FROZEN):
            why = ("a dispute is open on its escrow" if escrow.status == EscrowStatus.FROZEN
                   else "its escrow still holds money: release or refund it first")
            raise Conflict(f"cannot {action} job {job.id}: {why}", field="job_id",
                           rule="escrow_not_empty")

    def _reject_pending(self, job: Job, actor_id: int | None, reason: str,
                        keep: int | None = None) -> None:
        """Reject every PENDING application of the job (except ``keep``)."""
        query = Application.select(Application.id, Application.status).where(
            (Application.job == job.id) & (Application.status == ApplicationStatus.PENDING))
        if keep is not None:
            query = query.where(Application.id != keep)
        rows = list(self.store.backend.lock_rows(query.order_by(Application.id)).tuples())
        if not rows:
            return
        ids = [row[0] for row in rows]
        Application.update(status=ApplicationStatus.REJECTED).where(
            Application.id.in_(ids)).execute()
        record_many(APPLICATION, rows, ApplicationStatus.REJECTED, actor_id, reason)
        events.emit_many(self.store, "Application", (
            (app_id, SyncOperation.UPDATE,
             {"job_id": job.id, "status": ApplicationStatus.REJECTED.value}) for app_id in ids))

    def hire(self, application_id: int, *, actor_id: int | None = None) -> Job:
        """Accept one application: the job goes IN_PROGRESS with that freelancer and
        every other PENDING application is rejected."""
        with self.store.atomic():
            job_id = self._get(Application, application_id).job_id
            job = self._get(Job, job_id, "application_id", lock=True)
            application = self._get(Application, application_id, lock=True)
            self._require_party(actor_id, [job.client_id], "hire for this job")
            JOB.check(job.status, JobStatus.IN_PROGRESS, "only an OPEN job can hire")
            APPLICATION.check(application.status, ApplicationStatus.ACCEPTED)
            self._user(application.freelancer_id, "application_id")
            move(APPLICATION, application, ApplicationStatus.ACCEPTED, actor_id, "hired")
            self._reject_pending(job, actor_id, "another applicant was hired",
                                 keep=application.id)
            move(JOB, job, JobStatus.IN_PROGRESS, actor_id, "hired",
                 freelancer=application.freelancer_id)
            self._emit("Application", application.id, SyncOperation.UPDATE,
                       {"job_id": job.id, "status": str(application.status)})
            self._emit("Job", job.id, SyncOperation.UPDATE, job_payload(job))
        return job

    def complete_job(self, job_id: int, *, actor_id: int | None = None) -> Job:
        """IN_PROGRESS -> COMPLETED, once the escrow (if any) holds nothing."""
        with self.store.atomic():
            job = self._get(Job, job_id, lock=True)
            self._require_party(actor_id, [job.client_id], "complete this job")
            JOB.check(job.status, JobStatus.COMPLETED)
            self._require_empty_escrow(job, "complete")
            move(JOB, job, JobStatus.COMPLETED, actor_id, "completed", closed_at=utcnow())
            self._emit("Job", job.id, SyncOperation.UPDATE, job_payload(job))
        return job

    def cancel_job(self, job_id: int, *, actor_id: int | None = None, reason: str = "") -> Job:
        """OPEN or IN_PROGRESS -> CANCELLED. A hired job's escrow must be empty."""
        with self.store.atomic():
            job = self._get(Job, job_id, lock=True)
            self._require_party(actor_id, [job.client_id], "cancel this job")
            JOB.check(job.status, JobStatus.CANCELLED)
            self._require_empty_escrow(job, "cancel")
            self._reject_pending(job, actor_id, "the job was cancelled")
            move(JOB, job, JobStatus.CANCELLED, actor_id, reason or "cancelled",
                 closed_at=utcnow())
            self._emit("Job", job.id, SyncOperation.UPDATE, job_payload(job))
        return job

    def reopen_job(self, job_id: int, *, actor_id: int | None = None) -> Job:
        """CANCELLED -> OPEN, for a job cancelled before anyone was hired."""
        with self.store.atomic():
            job = self._get(Job, job_id, lock=True)
            self._require_party(actor_id, [job.client_id], "reopen this job")
            if job.freelancer_id is not None:
                raise InvalidTransition("Job", job.status, JobStatus.OPEN,
                                        "a job that hired someone cannot be reopened; post a "
                                        "new one")
            move(JOB, job, JobStatus.OPEN, actor_id, "reopened", closed_at=None)
            self._emit("Job", job.id, SyncOperation.UPDATE, job_payload(job))
        return job


__all__ = ["MAX_SKILLS", "JobsMixin", "clean_skills", "job_payload"]
