"""The marketplace: jobs and their skills, applications, escrow, milestones,
reviews, skill verification, disputes, and the transition history of every
state machine."""

from __future__ import annotations

from enum import StrEnum

from peewee import (
    AutoField,
    BigAutoField,
    CharField,
    CompositeKey,
    DateTimeField,
    IntegerField,
    ModelIndex,
    TextField,
)

from ..money import CURRENCIES
from .base import BaseModel
from .fields import (
    CheckedCharField,
    CheckedIntegerField,
    CheckedTextField,
    EnumField,
    ForeignKey,
    MoneyField,
    SkillField,
    TableCheck,
    between,
    created_at,
    not_blank,
    updated_at,
)
from .users import User

Currency = StrEnum("Currency", {c: c for c in CURRENCIES})


class JobStatus(StrEnum):
    OPEN = "OPEN"
    IN_PROGRESS = "IN_PROGRESS"
    COMPLETED = "COMPLETED"
    CANCELLED = "CANCELLED"


class ApplicationStatus(StrEnum):
    PENDING = "PENDING"
    ACCEPTED = "ACCEPTED"
    REJECTED = "REJECTED"
    WITHDRAWN = "WITHDRAWN"


class EscrowStatus(StrEnum):
    FUNDED = "FUNDED"  # holds money; releases and refunds allowed
    FROZEN = "FROZEN"  # a dispute is open: nothing moves
    RELEASED = "RELEASED"  # emptied, all of it paid to the freelancer
    REFUNDED = "REFUNDED"  # emptied, all of it returned to the client
    SETTLED = "SETTLED"  # emptied, part paid and part returned


class MilestoneStatus(StrEnum):
    PENDING = "PENDING"
    SUBMITTED = "SUBMITTED"
    RELEASED = "RELEASED"
    CANCELLED = "CANCELLED"


class SkillLevel(StrEnum):
    BEGINNER = "BEGINNER"
    INTERMEDIATE = "INTERMEDIATE"
    ADVANCED = "ADVANCED"
    EXPERT = "EXPERT"


class DisputeStatus(StrEnum):
    OPEN = "OPEN"
    UNDER_REVIEW = "UNDER_REVIEW"
    RESOLVED_CLIENT = "RESOLVED_CLIENT"
    RESOLVED_FREELANCER = "RESOLVED_FREELANCER"
    RESOLVED_SPLIT = "RESOLVED_SPLIT"


class EntityType(StrEnum):
    JOB = "JOB"
    APPLICATION = "APPLICATION"
    ESCROW = "ESCROW"
    MILESTONE = "MILESTONE"
    DISPUTE = "DISPUTE"
    KYC = "KYC"


class Job(BaseModel):
    id = AutoField()
    client = ForeignKey(User, backref="jobs_posted")
    freelancer = ForeignKey(User, null=True, backref="jobs_taken", index=False)
    title = CheckedCharField(max_length=200, rules=[not_blank()])
    description = TextField(default="")
    status = EnumField(JobStatus, default=JobStatus.OPEN)
    budget = MoneyField()
    currency = EnumField(Currency)
    created_at = created_at()
    updated_at = updated_at()
    closed_at = DateTimeField(null=True)  # set on COMPLETED or CANCELLED
    deleted_at = DateTimeField(null=True)

    class Meta:
        table_name = "jobs"
        constraints = [
            TableCheck("ck_jobs_freelancer_not_client",
                       "freelancer_id IS NULL OR freelancer_id <> client_id",
                       "freelancer", "must be someone other than the client"),
            TableCheck("ck_jobs_freelancer_when_hired",
                       "status IN ('OPEN', 'CANCELLED') OR freelancer_id IS NOT NULL",
                       "freelancer", "is required once the job is IN_PROGRESS or COMPLETED"),
        ]


# Jobs by status: newest first, or by currency and budget range (migration
# 0016; the first replaced ix_jobs_status_created). Both hold every column the
# search reads, deleted_at included: SQLite reads the table for a column that
# only a partial index's WHERE mentions.
Job.add_index(ModelIndex(Job, (Job.status, Job.created_at, Job.id, Job.budget, Job.currency,
                               Job.deleted_at), name="ix_jobs_listed"))
Job.add_index(ModelIndex(Job, (Job.status, Job.currency, Job.budget, Job.created_at, Job.id,
                               Job.deleted_at), name="ix_jobs_listed_budget"))
# Search over OPEN jobs: newest first, or by budget range; both covering.
_OPEN = (Job.status == JobStatus.OPEN) & Job.deleted_at.is_null()
Job.add_index(ModelIndex(Job, (Job.created_at, Job.id, Job.budget, Job.currency),
                         name="ix_jobs_open_recent", where=_OPEN))
Job.add_index(ModelIndex(Job, (Job.budget, Job.created_at, Job.id, Job.currency),
                         name="ix_jobs_open_budget", where=_OPEN))
# Text matches are paged by id (newest first): lets Postgres walk OPEN jobs in id
# order and test each against a frequent term, instead of collecting them all.
Job.add_index(ModelIndex(Job, (Job.id,), name="ix_jobs_open_id", where=_OPEN))
# Jobs completed as freelancer (user stats) are counted from this index alone.
Job.add_index(ModelIndex(Job, (Job.freelancer, Job.status), name="ix_jobs_freelancer_status"))


class JobSkill(BaseModel):
    """A job's skills, one row each; indexed both ways (job -> skills, skill -> jobs).

    Each row also carries a copy of what search filters on, kept by database
    triggers from its job: ``open_created_at`` (the job's creation time while it
    is OPEN and not deleted, else NULL), ``budget`` and ``currency``. So a skill
    filter walks one covering index newest-first and never visits ``jobs``.
    Since migration 0016 the same holds for the other statuses: ``job_status``
    is the job's status while it is neither OPEN nor deleted (else NULL) and
    ``job_created_at`` its creation time, so a rare skill drives the walk
    whatever the status asked for."""

    job = ForeignKey(Job, on_delete="CASCADE", backref="skills", index=False)
    skill = SkillField()
    open_created_at = DateTimeField(null=True)
    budget = MoneyField(null=True)
    currency = EnumField(Currency, null=True)
    job_status = EnumField(JobStatus, null=True)
    job_created_at = DateTimeField(null=True)

    class Meta:
        table_name = "job_skills"
        primary_key = CompositeKey("job", "skill")


JobSkill.add_index(ModelIndex(JobSkill, (JobSkill.skill, JobSkill.job),
                              name="ix_job_skills_skill_job"))
# The postings of OPEN jobs per skill, newest first, with the filters inside.
JobSkill.add_index(ModelIndex(JobSkill, (JobSkill.skill, JobSkill.open_created_at, JobSkill.job,
                                         JobSkill.budget, JobSkill.currency),
                              name="ix_job_skills_open",
                              where=JobSkill.open_created_at.is_null(False)))
# The postings of jobs in the other statuses, per skill and status, newest first.
JobSkill.add_index(ModelIndex(JobSkill, (JobSkill.skill, JobSkill.job_status,
                                         JobSkill.job_created_at, JobSkill.job,
                                         JobSkill.budget, JobSkill.currency),
                              name="ix_job_skills_status",
                              where=JobSkill.job_status.is_null(False)))


class Application(BaseModel):
    id = AutoField()
    job = ForeignKey(Job, backref="applications", index=False)
    freelancer = ForeignKey(User, backref="applications")
    cover_letter = TextField(default="")
    bid = MoneyField(null=True)
    status = EnumField(ApplicationStatus, default=ApplicationStatus.PENDING)
    created_at = created_at()
    updated_at = updated_at()

    class Meta:
        table_name = "applications"


Application.add_index(ModelIndex(Application, (Application.job, Application.freelancer),
                                 unique=True, name="uq_applications_job_freelancer"))


class Escrow(BaseModel):
    """Money held for one job. What it still holds is the balance of its ledger
    account (``Account.escrow``); funding, releases and refunds are transfers."""

    id = AutoField()
    job = ForeignKey(Job, unique=True, backref="escrows")
    client = ForeignKey(User, backref="escrows_funded")
    freelancer = ForeignKey(User, backref="escrows_earning")
    amount = MoneyField()  # total funded
    currency = EnumField(Currency)
    status = EnumField(EscrowStatus, default=EscrowStatus.FUNDED)
    created_at = created_at()
    updated_at = updated_at()

    class Meta:
        table_name = "escrows"
        indexes = ((("status",), False),)
        constraints = [
            TableCheck("ck_escrows_parties_differ", "client_id <> freelancer_id",
                       "freelancer", "must be someone other than the client"),
        ]


class Milestone(BaseModel):
    id = AutoField()
    escrow = ForeignKey(Escrow, backref="milestones")
    job = ForeignKey(Job, backref="milestones")
    title = CheckedCharField(max_length=200, rules=[not_blank()])
    amount = MoneyField()
    status = EnumField(MilestoneStatus, default=MilestoneStatus.PENDING)
    auto_release_at = DateTimeField(null=True)
    submitted_at = DateTimeField(null=True)
    released_at = DateTimeField(null=True)
    created_at = created_at()
    updated_at = updated_at()

    class Meta:
        table_name = "milestones"


# `release-due` walks only submitted milestones, soonest deadline first.
Milestone.add_index(ModelIndex(Milestone, (Milestone.auto_release_at,),
                               name="ix_milestones_due",
                               where=Milestone.status == MilestoneStatus.SUBMITTED))


class Review(BaseModel):
    id = AutoField()
    job = ForeignKey(Job, backref="reviews", index=False)
    reviewer = ForeignKey(User, backref="reviews_written")
    reviewee = ForeignKey(User, backref="reviews_received", index=False)
    rating = CheckedIntegerField(rules=[between(1, 5)])
    comment = TextField(default="")
    created_at = created_at()

    class Meta:
        table_name = "reviews"
        constraints = [
            TableCheck("ck_reviews_not_self", "reviewer_id <> reviewee_id",
                       "reviewee", "must be someone other than the reviewer"),
        ]


Review.add_index(ModelIndex(Review, (Review.job, Review.reviewer), unique=True,
                            name="uq_reviews_job_reviewer"))
# Average rating per user is read from this index alone (rating included).
Review.add_index(ModelIndex(Review, (Review.reviewee, Review.rating), name="ix_reviews_reviewee"))


class SkillVerification(BaseModel):
    id = AutoField()
    user = ForeignKey(User, backref="skill_verifications")
    skill = SkillField()
    level = EnumField(SkillLevel)
    score = CheckedIntegerField(null=True, rules=[between(0, 100)])
    verified_by = ForeignKey(User, null=True, backref="skill_verifications_given", index=False)
    evidence = TextField(default="")
    verified_at = DateTimeField(null=True)
    created_at = created_at()
    updated_at = updated_at()

    class Meta:
        table_name = "skill_verifications"


SkillVerification.add_index(ModelIndex(SkillVerification, (SkillVerification.user,
                                                           SkillVerification.skill),
                                       unique=True, name="uq_skill_verifications_user_skill"))


class Dispute(BaseModel):
    id = AutoField()
    job = ForeignKey(Job, backref="disputes")
    escrow = ForeignKey(Escrow, backref="disputes", index=False)
    opened_by = ForeignKey(User, backref="disputes_opened", index=False)
    reason = CheckedTextField(rules=[not_blank()])
    status = EnumField(DisputeStatus, default=DisputeStatus.OPEN)
    resolution_note = TextField(default="")
    client_amount = MoneyField(positive=False, null=True)
    freelancer_amount = MoneyField(positive=False, null=True)
    created_at = created_at()
    updated_at = updated_at()
    resolved_at = DateTimeField(null=True)

    class Meta:
        table_name = "disputes"
        indexes = ((("status",), False),)


# At most one dispute in progress per escrow.
Dispute.add_index(ModelIndex(Dispute, (Dispute.escrow,), unique=True,
                             name="uq_disputes_active_escrow",
                             where=Dispute.status.in_([DisputeStatus.OPEN,
                                                       DisputeStatus.UNDER_REVIEW])))


class StateTransition(BaseModel):
    """Append-only history of every state change of jobs, applications,
    escrows, milestones, disputes and KYC records."""

    id = BigAutoField()
    entity_type = EnumField(EntityType)
    entity_id = IntegerField()
    from_state = CharField(max_length=32, null=True)
    to_state = CheckedCharField(max_length=32, rules=[not_blank()])
    actor = ForeignKey(User, null=True, backref="+", index=False)
    reason = TextField(default="")
    created_at = created_at()

    class Meta:
        table_name = "state_transitions"


StateTransition.add_index(ModelIndex(StateTransition, (StateTransition.entity_type,
                                                       StateTransition.entity_id,
                                                       StateTransition.id),
                                     name="ix_state_transitions_entity"))

__all__ = [
    "Application", "ApplicationStatus", "Currency", "Dispute", "DisputeStatus", "EntityType",
    "Escrow", "EscrowStatus", "Job", "JobSkill", "JobStatus", "Milestone", "MilestoneStatus",
    "Review", "SkillLevel", "SkillVerification", "StateTransition",
]
